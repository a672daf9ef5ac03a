package dev.kemu.boot;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() == 0,
                "qemu-system-x86_64 is not installed");
        KernelSources.BuiltImages images = TestKernels.defaultKernel();
        Path elf32 = dir.resolve("kernel32.elf");
        assertEquals(0, new ProcessBuilder("objcopy", "-O", "elf32-i386", images.kernel().toString(), elf32.toString())
                .inheritIO().start().waitFor());
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-kernel", elf32.toString(), "-m", "64M", "-display",
                "none", "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not finish");
        String underQemu = new String(qemu.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertEquals(1, qemu.exitValue(), "isa-debug-exit with code 0 exits with status 1: " + underQemu);

        String underKemu;
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            underKemu = boot.run().console();
        }
        String marker = "kmain: kemu services ";
        assertEquals(underKemu.substring(0, underKemu.indexOf(marker)), underQemu.substring(0, underQemu.indexOf(marker)));
        assertTrue(underQemu.contains("kmain: kemu services absent\nkmain: done, halting\n"), underQemu);
    }
}
