package dev.kemu.toolchain.keystone;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The boot path assembled by Keystone: every code section of {@code kernel-asm/} (boot.S's 32-bit entry, the
 * long-mode trampoline, kmain and the routines it calls) assembled by Keystone at the address GNU ld linked it
 * to gives GNU's bytes, and the kernel built from Keystone's bytes boots through the same stages to the same
 * console output.
 */
class KeystoneBootImageTest {
    private static KernelSources.BuiltImages gnu;
    private static KeystoneImage.Result keystone;

    @BeforeAll
    static void build() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
        gnu = TestKernels.defaultKernel();
        KernelSources sources = KernelSources.defaults();
        keystone = KeystoneImage.build(gnu.kernel(), sources.kernelFiles(), List.of(sources.includeDir()),
                Path.of("target/keystone-boot/kernel.elf"));
    }

    @Test
    void everyCodeSection_isGnusBytes() {
        List<String> described = keystone.sections().stream().map(KeystoneImage.Section::describe).toList();
        Set<String> assembled = keystone.sections().stream().map(s -> s.file() + " " + s.name())
                .collect(Collectors.toSet());
        assertTrue(assembled.containsAll(Set.of("boot.S .boot.text", "trampoline.S .boot.text", "trampoline.S .text",
                "kmain.S .text")), String.join("\n", described));
        for (KeystoneImage.Section section : keystone.sections()) {
            assertTrue(section.sameAsGnu() && section.length() > 0, String.join("\n", described));
        }
    }

    @Test
    void keystoneAssembledKernel_bootsLikeTheGnuOne() {
        assertEquals(boot(gnu), boot(new KernelSources.BuiltImages(gnu.firmware(), keystone.elf())));
    }

    private static List<String> boot(KernelSources.BuiltImages images) {
        List<String> lines = new ArrayList<>();
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            BootReport report = boot.run();
            report.stages().forEach(stage -> lines.add(stage.line()));
            lines.add("--- console ---");
            lines.addAll(report.console().lines().toList());
            lines.add("--- end: " + report.run().reason() + ", " + report.run().instructions() + " instructions ---");
        }
        return lines;
    }
}
