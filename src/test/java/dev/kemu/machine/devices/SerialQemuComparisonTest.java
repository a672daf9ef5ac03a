package dev.kemu.machine.devices;

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
 * QEMU is the reference for the UART: one kernel prints, through its own polling driver, the
 * COM1 registers it reads (reset values, the divisor latch, loopback, interrupt identification)
 * and what an unclaimed port reads at each width, then exits with code 5. Under kemu and under
 * QEMU ({@code -serial file:F}) COM1 carries the same bytes and the exit status agrees. Skipped
 * where qemu-system-x86_64 is not installed.
 */
class SerialQemuComparisonTest {
    private static final int EXIT_CODE = 5;

    /**
     * kmain reads registers into {@code seen} while DLAB or loopback would swallow its output,
     * then prints them all with its polling driver, 16 hex bytes a line.
     */
    private static final String KMAIN = """
            .set seen_count, 0
            .macro SAVE port
                mov dx, \\port
                in al, dx
                mov byte ptr [rip + seen + seen_count], al
                .set seen_count, seen_count + 1
            .endm
            .macro PUT port, value
                mov dx, \\port
                mov al, \\value
                out dx, al
            .endm
                SAVE 0x3f9             # after reset: IER IIR LCR MCR LSR MSR SCR
                SAVE 0x3fa
                SAVE 0x3fb
                SAVE 0x3fc
                SAVE 0x3fd
                SAVE 0x3fe
                SAVE 0x3ff
                PUT 0x3fb, 0x80        # DLAB on: divisor 1 (115200 baud), read back; then 8N1
                SAVE 0x3f8
                SAVE 0x3f9
                PUT 0x3f8, 0x01
                PUT 0x3f9, 0x00
                SAVE 0x3f8
                SAVE 0x3f9
                SAVE 0x3fb
                PUT 0x3fb, 0x03
                SAVE 0x3fb
                PUT 0x3fc, 0x1b        # loopback: the byte sent comes back in RBR, MSR mirrors MCR
                PUT 0x3f8, 0x4b
                SAVE 0x3fd
                SAVE 0x3f8
                SAVE 0x3fd
                SAVE 0x3fe
                PUT 0x3fc, 0x0b
                SAVE 0x3fe
                PUT 0x3fa, 0x01        # FIFO on, THR-empty interrupt enabled: IIR says so once
                PUT 0x3f9, 0x02
                SAVE 0x3fa
                SAVE 0x3fa
                PUT 0x3f9, 0x00
                SAVE 0x3fa
                PUT 0x3ff, 0xa5        # scratch
                SAVE 0x3ff
                mov dx, 0x3e8          # an unclaimed port (COM3, absent) at three widths
                in al, dx
                mov byte ptr [rip + seen + seen_count], al
                in ax, dx
                mov word ptr [rip + seen + seen_count + 1], ax
                in eax, dx
                mov dword ptr [rip + seen + seen_count + 3], eax
                .set seen_count, seen_count + 7

                xor ebx, ebx
                lea r12, [rip + seen]
            1:  movzx edi, byte ptr [r12 + rbx]
                call hex8
                inc ebx
                test ebx, 15
                jnz 2f
                mov al, 10
                call putc
            2:  cmp ebx, seen_count
                jb 1b
                mov al, 10
                call putc
                lea rsi, [rip + greeting]
            3:  mov al, byte ptr [rsi]
                test al, al
                jz 4f
                call putc
                inc rsi
                jmp 3b
            4:  mov al, %d
                out EXIT_PORT, al
                ret

            # hex8: EDI's low byte as two hex digits and a space
            hex8:
                mov eax, edi
                shr al, 4
                call digit
                mov eax, edi
                and al, 0x0f
                call digit
                mov al, ' '
                jmp putc
            digit:
                add al, '0'
                cmp al, '9'
                jbe putc
                add al, 'a' - '9' - 1
            # putc: wait until THR is empty (LSR bit 5), then send AL
            putc:
                mov ah, al
                mov dx, 0x3fd
            5:  in al, dx
                test al, 0x20
                jz 5b
                mov dx, 0x3f8
                mov al, ah
                out dx, al
                ret
            greeting:
                .asciz "hello from COM1\\n"
            .section .data
            seen: .fill 64, 1, 0
            """.formatted(EXIT_CODE);

    @TempDir
    Path dir;

    @Test
    void com1OutputAndExitStatus_matchQemu() throws Exception {
        KernelSources.BuiltImages images = TestKernels.withKmain(dir, KMAIN);
        BootReport report;
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            report = boot.run();
        }
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
        assertEquals(EXIT_CODE, report.run().exitCode());
        // The values kemu gives, from QEMU's serial.c: the comparison below checks them against QEMU itself.
        assertEquals("""
                00 01 00 08 60 b0 00 0c 00 01 00 80 03 61 4b 60\s
                b0 b0 c2 c1 c1 a5 ff ff ff ff ff ff ff\s
                hello from COM1
                """, report.serial());

        assumeTrue(new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() == 0,
                "qemu-system-x86_64 is not installed");
        Path elf32 = dir.resolve("kernel32.elf");
        assertEquals(0, new ProcessBuilder("objcopy", "-O", "elf32-i386", images.kernel().toString(), elf32.toString())
                .inheritIO().start().waitFor());
        Path serial = dir.resolve("com1.txt");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-kernel", elf32.toString(), "-m", "64M",
                "-serial", "file:" + serial, "-display", "none", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not finish");
        String underQemu = Files.readString(serial, StandardCharsets.ISO_8859_1);
        assertEquals(underQemu, report.serial(), "COM1 under kemu and under QEMU");
        assertEquals((EXIT_CODE << 1) | 1, qemu.exitValue(), "isa-debug-exit status");
    }
}
