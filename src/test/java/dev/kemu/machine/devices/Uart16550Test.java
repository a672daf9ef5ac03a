package dev.kemu.machine.devices;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * COM1 as a kernel's own driver sees it: each test boots a kernel whose kmain drives the UART
 * with real {@code in}/{@code out} and copies what it reads to the debug console, one byte per
 * register read. Expected values are QEMU's (hw/char/serial.c, serial_reset and the register reads).
 */
class Uart16550Test {
    /** Assembly helpers: READ reg copies COM1 register reg to the debug console, WRITE reg, value writes it. */
    private static final String MACROS = """
            .macro READ reg
                mov dx, 0x3f8 + \\reg
                in al, dx
                out DEBUG_CONSOLE, al
            .endm
            .macro WRITE reg, value
                mov dx, 0x3f8 + \\reg
                mov al, \\value
                out dx, al
            .endm
            """;
    private static final String EXIT = """
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    @TempDir
    Path dir;

    private BootReport boot(String body, SerialSource input) {
        String source = MACROS.replace("DEBUG_CONSOLE", "0xe9") + body + EXIT;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, source),
                BootOptions.defaults().withSerialInput(input))) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
            return report;
        }
    }

    private static String hex(String console) {
        StringBuilder text = new StringBuilder();
        for (char c : console.toCharArray()) {
            text.append(text.isEmpty() ? "" : " ").append(String.format("%02x", (int) c));
        }
        return text.toString();
    }

    @Test
    void registersAfterReset_readAsQemusSerialReset() {
        BootReport report = boot("""
                    READ 1
                    READ 2
                    READ 3
                    READ 4
                    READ 5
                    READ 6
                    READ 7
                """, SerialSource.none());
        // IER 0, IIR 0x01 (no interrupt), LCR 0, MCR 0x08 (OUT2), LSR 0x60 (THRE, TEMT), MSR 0xb0, SCR 0
        assertEquals("00 01 00 08 60 b0 00", hex(report.console()));
    }

    @Test
    void dlab_switchesOffsetsZeroAndOneToTheDivisorLatch_andBack() {
        BootReport report = boot("""
                    WRITE 1, 0x03
                    READ 0
                    READ 1
                    WRITE 3, 0x83
                    READ 0
                    READ 1
                    WRITE 0, 0x01
                    WRITE 1, 0x02
                    READ 0
                    READ 1
                    READ 3
                    WRITE 3, 0x03
                    READ 1
                    READ 3
                """, SerialSource.none());
        // DLAB=0: RBR (empty: 0), IER 3; DLAB=1: reset divisor 0x000c, then 0x0201; LCR 0x83; back: IER still 3
        assertEquals("00 03 0c 00 01 02 83 03 03", hex(report.console()));
        assertEquals("", report.serial(), "divisor writes are not transmitted");
    }

    @Test
    void pollingDriver_waitsForThre_andWritesThr() {
        BootReport report = boot("""
                    WRITE 3, 0x80
                    WRITE 0, 0x01
                    WRITE 1, 0x00
                    WRITE 3, 0x03
                    lea rsi, [rip + message]
                next:
                    mov bl, byte ptr [rsi]
                    test bl, bl
                    jz done
                wait_thre:
                    mov dx, 0x3fd
                    in al, dx
                    test al, 0x20
                    jz wait_thre
                    mov dx, 0x3f8
                    mov al, bl
                    out dx, al
                    inc rsi
                    jmp next
                message:
                    .asciz "hello, COM1\\n"
                done:
                """, SerialSource.none());
        assertEquals("hello, COM1\n", report.serial());
        assertEquals("", report.devices().com2());
    }

    @Test
    void receivedBytes_setDataReady_andArriveInOrder_thenDataReadyClears() {
        BootReport report = boot("""
                receive:
                    mov dx, 0x3fd
                    in al, dx
                    test al, 0x01
                    jz empty
                    mov dx, 0x3f8
                    in al, dx
                    out dx, al
                    jmp receive
                empty:
                    READ 5
                    READ 0
                """, SerialSource.of("ping\n"));
        assertEquals("ping\n", report.serial(), "each byte echoed back in order");
        assertEquals("60 00", hex(report.console()), "then LSR without DR, and RBR reads 0");
    }

    @Test
    void withoutInput_dataReadyStaysClear() {
        BootReport report = boot("""
                    READ 5
                    READ 0
                    READ 5
                """, SerialSource.none());
        assertEquals("60 00 60", hex(report.console()));
    }

    @Test
    void loopback_feedsThrToRbr_mirrorsMcrInMsr_andSendsNothing() {
        BootReport report = boot("""
                    WRITE 4, 0x1b
                    WRITE 0, 0x78
                    READ 5
                    READ 0
                    READ 5
                    READ 6
                    WRITE 4, 0x08
                    READ 6
                """, SerialSource.of("z"));
        // LSR DR set by the looped byte 'x' (0x78), not by the line's 'z'; MSR: RTS->CTS, DTR->DSR, OUT2->DCD
        assertEquals("61 78 60 b0 b0", hex(report.console()));
        assertEquals("", report.serial());
    }

    @Test
    void interruptIdentification_namesThrEmptyOnceEnabled_andReceivedDataFirst() {
        BootReport report = boot("""
                    WRITE 1, 0x02
                    READ 2
                    READ 2
                    WRITE 2, 0x01
                    WRITE 1, 0x03
                    READ 2
                    READ 0
                    READ 2
                    READ 2
                """, SerialSource.of("a"));
        // THRI pending once (0x02), then acknowledged (0x01); FIFO on: 0xc0 | RDI (0x04) while 'a' waits,
        // then THR empty (0xc2), then none (0xc1)
        assertEquals("02 01 c4 61 c2 c1", hex(report.console()));
    }

    @Test
    void scratchRegister_keepsWhatIsWritten_andCom2IsASecondUart() {
        BootReport report = boot("""
                    WRITE 7, 0xa5
                    READ 7
                    mov dx, 0x2ff
                    mov al, 0x5a
                    out dx, al
                    in al, dx
                    out 0xe9, al
                    mov dx, 0x2f8
                    mov al, 0x32
                    out dx, al
                """, SerialSource.none());
        assertEquals("a5 5a", hex(report.console()));
        assertEquals("2", report.devices().com2());
        assertEquals("", report.serial());
    }
}
