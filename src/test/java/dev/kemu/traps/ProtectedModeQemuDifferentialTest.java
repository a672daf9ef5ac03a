package dev.kemu.traps;

import dev.kemu.boot.BootReport;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QEMU is the reference: the protected-mode kernel whose handlers print vector, error code,
 * EIP and CPL to port 0xE9 prints the same under kemu as under {@code qemu-system-x86_64
 * -kernel} (the ELF32 build, the flags a user would pass), and exits with the same status.
 * Skipped where qemu-system-x86_64 is not installed.
 */
class ProtectedModeQemuDifferentialTest {
    @TempDir
    Path dir;

    @Test
    void handlersPrintTheSameVectorsErrorCodesAndEips_andExitTheSame_underKemuAndQemu() throws Exception {
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() == 0,
                "qemu-system-x86_64 is not installed");
        Path debugcon = dir.resolve("debugcon.txt");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-kernel",
                ProtectedModeKernel.build(dir, false).toString(), "-m", "64M",
                "-debugcon", "file:" + debugcon, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-display", "none", "-no-reboot", "-serial", "none", "-monitor", "none")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        if (!qemu.waitFor(60, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            throw new AssertionError("QEMU did not finish within 60 s; its debug console: "
                    + Files.readString(debugcon, StandardCharsets.ISO_8859_1));
        }
        String underQemu = Files.readString(debugcon, StandardCharsets.ISO_8859_1);

        BootReport underKemu = ProtectedModeHandlersTest.bootUnderKemu(ProtectedModeKernel.build(dir, true),
                new SymbolTable[1]);
        assertEquals(StopReason.EXIT_PORT, underKemu.run().reason(), underKemu.run().detail());
        assertFalse(underQemu.isEmpty(), "QEMU printed nothing: " + Files.readString(dir.resolve("qemu.log")));
        assertEquals(underQemu, underKemu.console());
        assertTrue(underQemu.lines().count() >= 13, underQemu);
        assertEquals((ProtectedModeKernel.EXIT_VALUE << 1) | 1, qemu.exitValue(), "QEMU's isa-debug-exit status");
        assertEquals(qemu.exitValue(), (underKemu.run().exitCode() << 1) | 1, "kemu's exit status, QEMU's convention");
    }
}
