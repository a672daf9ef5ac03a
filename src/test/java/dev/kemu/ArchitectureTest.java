package dev.kemu;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

/**
 * The layers of README.md, lowest first; dependencies point down. The native bindings are
 * reached only through the machine layer, except for the shared vocabulary: register ids
 * ({@code X86Reg}) and the two native failure types.
 */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kemu");

    @Test
    void layers_dependOnlyDownwards() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Native").definedBy("dev.kemu.nativelib..", "dev.kemu.unicorn..", "dev.kemu.capstone..")
                .layer("Machine").definedBy("dev.kemu.machine..")
                .layer("Images").definedBy("dev.kemu.elf..", "dev.kemu.toolchain..")
                .layer("Kernel").definedBy("dev.kemu.kernel..")
                .layer("Debug").definedBy("dev.kemu.debug..")
                .layer("Traps").definedBy("dev.kemu.traps..")
                .layer("Boot").definedBy("dev.kemu.boot..")
                .layer("Testing").definedBy("dev.kemu.testing..")
                .layer("Gdb").definedBy("dev.kemu.gdb..")
                .layer("Cli").definedBy("dev.kemu.cli..")
                .whereLayer("Cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("Gdb").mayOnlyBeAccessedByLayers("Cli")
                .whereLayer("Testing").mayOnlyBeAccessedByLayers("Cli")
                .whereLayer("Boot").mayOnlyBeAccessedByLayers("Testing", "Gdb", "Cli")
                .whereLayer("Traps").mayOnlyBeAccessedByLayers("Boot", "Testing", "Gdb", "Cli")
                .whereLayer("Debug").mayOnlyBeAccessedByLayers("Traps", "Boot", "Testing", "Gdb", "Cli")
                .whereLayer("Kernel").mayOnlyBeAccessedByLayers("Debug", "Traps", "Boot", "Testing", "Gdb", "Cli")
                .whereLayer("Images").mayOnlyBeAccessedByLayers("Debug", "Traps", "Boot", "Testing", "Gdb", "Cli")
                .whereLayer("Native").mayOnlyBeAccessedByLayers("Machine")
                .ignoreDependency(describe("any class", c -> true), describe("shared native vocabulary",
                        c -> c.getName().equals("dev.kemu.unicorn.X86Reg")
                                || c.getName().equals("dev.kemu.unicorn.UnicornException")
                                || c.getName().equals("dev.kemu.unicorn.UcError")
                                || c.getName().equals("dev.kemu.nativelib.NativeLibraryException")
                                // where kemu's own files are (repository or unpacked jar): images and boot need it too
                                || c.getName().equals("dev.kemu.nativelib.KemuHome")
                                // the process's directory, which the resident daemon changes per request: images
                                // that need an absolute path take it from there
                                || c.getName().equals("dev.kemu.nativelib.ProcessDirectory")))
                .check(MAIN);
    }

    /** One trap router: {@code debug} builds reports, it does not decide where an exception goes. */
    @Test
    void exceptionHandlers_liveInTheTrapsPackageOnly() {
        classes().that().implement(dev.kemu.machine.Machine.ExceptionHandler.class)
                .should().resideInAPackage("dev.kemu.traps..")
                .check(MAIN);
    }
}
