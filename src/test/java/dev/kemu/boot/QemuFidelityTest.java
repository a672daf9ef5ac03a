package dev.kemu.boot;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel is a real Multiboot image: converted to elf32-i386 it boots under QEMU's own
 * loader and prints the same lines as under kemu until it looks for kemu's services.
 * Skipped where qemu-system-x86_64 is not installed.
 */
class QemuFidelityTest {
    @TempDir
    Path dir;

    @Test
    void sameImageUnderQemu_printsTheSameLinesUpToTheServicesProbe() throws Exception {
        QemuRunner.assumeInstalled();
        KernelSources.BuiltImages images = TestKernels.defaultKernel();
        Path elf32 = dir.resolve("kernel32.elf");
        assertEquals(0, new ProcessBuilder("objcopy", "-O", "elf32-i386", images.kernel().toString(), elf32.toString())
                .inheritIO().start().waitFor());
        GuestOutput qemu = QemuRunner.boot(elf32, dir);
        String underQemu = qemu.debugConsole();
        assertEquals(1, qemu.exitStatus(), "isa-debug-exit with code 0 exits with status 1: " + qemu.describe());

        String underKemu;
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            underKemu = boot.run().console();
        }
        String marker = "kmain: kemu services ";
        assertEquals(underKemu.substring(0, underKemu.indexOf(marker)), underQemu.substring(0, underQemu.indexOf(marker)));
        assertTrue(underQemu.contains("kmain: kemu services absent\nkmain: done, halting\n"), underQemu);
    }
}
