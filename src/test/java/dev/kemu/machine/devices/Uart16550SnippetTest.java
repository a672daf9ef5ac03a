package dev.kemu.machine.devices;

import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** COM1 from guest test snippets: every run starts from the UART's power-on state, with its output cleared. */
@ExtendWith(KemuExtension.class)
class Uart16550SnippetTest {

    @Test
    void eachRun_startsWithTheUartReset_andItsOutputCleared(Guest guest) {
        GuestRun first = guest.run("""
                    mov dx, 0x3fb
                    mov al, 0x83
                    out dx, al
                    mov dx, 0x3f8
                    mov al, 0x01
                    out dx, al
                    mov dx, 0x3fb
                    mov al, 0x03
                    out dx, al
                    mov dx, 0x3f8
                    mov al, 'A'
                    out dx, al
                    mov dx, 0x3fb
                    in al, dx
                """);
        assertEquals(0x03, first.rax() & 0xff, first.describe());
        assertEquals("A", guest.machine().boot().com1().text());
        assertEquals(1, guest.machine().boot().com1().divisor());

        GuestRun second = guest.run("""
                    mov dx, 0x3fb
                    in al, dx
                """);
        assertEquals(0x00, second.rax() & 0xff, "LCR back to its reset value: " + second.describe());
        assertEquals("", guest.machine().boot().com1().text());
        assertEquals(0x0c, guest.machine().boot().com1().divisor());
    }

    @Test
    void inputGivenBeforeARun_isReadThroughLsrAndRbr(Guest guest) {
        guest.machine().boot().com1().receiveFrom(SerialInput.of("ok"));
        GuestRun run = guest.run("""
                    xor ebx, ebx
                1:  mov dx, 0x3fd
                    in al, dx
                    test al, 1
                    jz 2f
                    mov dx, 0x3f8
                    in al, dx
                    shl rbx, 8
                    mov bl, al
                    jmp 1b
                2:  mov rax, rbx
                """);
        assertEquals(('o' << 8) | 'k', run.rax(), run.describe());
        guest.machine().boot().com1().receiveFrom(SerialInput.none());
    }
}
