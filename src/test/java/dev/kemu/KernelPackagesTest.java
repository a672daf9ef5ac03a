package dev.kemu;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Inside the kernel layer, the memory services ({@code kernel.mm}, {@code kernel.slab}) sit
 * below the hypercall face ({@code dev.kemu.kernel}: {@code KernelServices}, {@code GuestAbi},
 * errno). They report domain results; only the hypercall face turns them into errno values.
 * Before issue 10 {@code FreeResult} and {@code MapResult} imported {@code GuestAbi} for
 * their errno, which made {@code kernel} and {@code kernel.mm} depend on each other.
 */
class KernelPackagesTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kemu.kernel");
    /** A reference to a top-level class of {@code dev.kemu.kernel} (an import or a qualified name). */
    private static final Pattern HYPERCALL_FACE = Pattern.compile("dev\\.kemu\\.kernel\\.[A-Z]");

    @Test
    void memoryServices_doNotDependOnTheHypercallFace() {
        noClasses().that().resideInAnyPackage("dev.kemu.kernel.mm..", "dev.kemu.kernel.slab..")
                .should().dependOnClassesThat().resideInAPackage("dev.kemu.kernel")
                .because("errno and the hypercall ABI belong to KernelServices; kernel.mm and kernel.slab report"
                        + " domain results (an empty Optional or a result enum), see issue 10")
                .check(MAIN);
    }

    /**
     * The bytecode rule above cannot see the old cycle: javac inlines {@code GuestAbi.EINVAL}
     * (a constant), so only the source named it. This reads the sources.
     */
    @Test
    void memoryServicesSources_importNothingFromTheHypercallFace() throws IOException {
        List<String> offenders;
        try (Stream<Path> files = Stream.of("mm", "slab").map(p -> Path.of("src/main/java/dev/kemu/kernel", p))
                .flatMap(KernelPackagesTest::javaFiles)) {
            offenders = files.filter(f -> HYPERCALL_FACE.matcher(read(f)).find()).map(Path::toString).sorted().toList();
        }
        assertEquals(List.of(), offenders, "these kernel.mm/kernel.slab sources name a dev.kemu.kernel class;"
                + " return a domain result and let KernelServices choose the errno");
    }

    private static Stream<Path> javaFiles(Path dir) {
        try {
            return Files.list(dir).filter(f -> f.toString().endsWith(".java")).toList().stream();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + dir + "; run the tests from the project root", e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file, e);
        }
    }
}
