package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QEMU as the reference for 64-bit delivery: the kernel of {@link LongModeHandlersTest} (own
 * #DE, #BP, #UD, #GP and #PF handlers) prints what each handler saw (vector, error code, pushed
 * RIP, RFLAGS inside the handler, CR2) to port 0xE9; the output is the same under kemu and
 * under {@code qemu-system-x86_64 -kernel} (the same image as ELF32, as QemuFidelityTest runs it).
 * Skipped where qemu-system-x86_64 is not installed.
 */
class LongModeQemuDifferentialTest {
    @TempDir
    Path dir;

    private static final String PRINT_LOG = """
            print_log:
                lea rsi, [rip + log]
                mov ecx, 25                                  # five entries of five quads
            1:  mov rdx, [rsi]
                call put_hex64
                add rsi, 8
                dec ecx
                jnz 1b
                ret
            put_hex64:                                       # rdx as 16 hex digits and a newline
                push rcx
                mov ecx, 16
                lea rdi, [rip + hex_digits]
            2:  rol rdx, 4
                mov eax, edx
                and eax, 0xf
                mov al, [rdi + rax]
                out 0xe9, al
                dec ecx
                jnz 2b
                mov al, 10
                out 0xe9, al
                pop rcx
                ret
            .section .rodata
            hex_digits: .ascii "0123456789abcdef"
            .section .text
            """;

    @Test
    void longModeHandlersSeeTheSameFrames_underKemuAndQemu() throws Exception {
        assumeTrue(new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() == 0,
                "qemu-system-x86_64 is not installed");
        String lastInKmain = "# RFLAGS after the last iretq\n";
        assertTrue(LongModeHandlersTest.FIVE_HANDLERS.contains(lastInKmain));
        assertTrue(LongModeHandlersTest.FIVE_HANDLERS.contains("\n.section .data"));
        String body = LongModeHandlersTest.FIVE_HANDLERS.replace(lastInKmain, lastInKmain + "call print_log\n")
                .replace("\n.section .data", "\n" + PRINT_LOG + ".section .data");
        KernelSources.BuiltImages images = TestKernels.withKmain(dir, body);
        BootReport underKemu;
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            underKemu = boot.run();
        }
        assertEquals(StopReason.EXIT_PORT, underKemu.run().reason(), underKemu.run().detail() + underKemu.faults());

        Path elf32 = dir.resolve("kernel32.elf");
        assertEquals(0, new ProcessBuilder("objcopy", "-O", "elf32-i386", images.kernel().toString(), elf32.toString())
                .inheritIO().start().waitFor());
        Path debugcon = dir.resolve("debugcon.txt");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-kernel", elf32.toString(), "-m", "64M",
                "-debugcon", "file:" + debugcon, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-display", "none", "-no-reboot", "-serial", "none", "-monitor", "none")
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        if (!qemu.waitFor(60, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            throw new AssertionError("QEMU did not finish within 60 s");
        }
        String underQemu = Files.readString(debugcon, StandardCharsets.ISO_8859_1);
        assertEquals(underQemu, underKemu.console());
        assertTrue(underQemu.contains("\n0000100000000000\n"), "the #PF handler's CR2 is in the output: " + underQemu);
        assertEquals(1, qemu.exitValue(), "isa-debug-exit with 0");
    }
}
