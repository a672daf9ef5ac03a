package dev.kemu.machine.devices;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Any sequence of byte accesses to the eight registers keeps the UART's contract: only THR
 * writes with DLAB clear and loopback off are sent, the divisor holds the last DLL/DLM written
 * with DLAB set, LSR always shows the transmitter empty, and LCR, MCR (low 5 bits), IER (low 4)
 * and SCR read back what was written. The byte-for-byte reference is QEMU (SerialQemuComparisonTest).
 */
class Uart16550PropertyTest {
    private record Op(boolean write, int offset, int value) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.of(true, false), Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 255)).as(Op::new);
        return op.list().ofMaxSize(80);
    }

    @Property(tries = 500)
    void registerFile_followsTheContract(@ForAll("operations") List<Op> ops) {
        Uart16550 uart = new Uart16550("COM1", Uart16550.COM1);
        uart.receiveFrom(SerialInput.of("abc"));
        ByteArrayOutputStream expectedOutput = new ByteArrayOutputStream();
        int lcr = 0, mcr = 0x08, ier = 0, scr = 0, divisor = 0x0c;
        for (Op op : ops) {
            int port = Uart16550.COM1 + op.offset();
            boolean dlab = (lcr & 0x80) != 0;
            if (op.write()) {
                uart.write(null, port, 1, op.value());
                switch (op.offset()) {
                    case 0 -> {
                        if (dlab) {
                            divisor = (divisor & 0xff00) | op.value();
                        } else if ((mcr & 0x10) == 0) {
                            expectedOutput.write(op.value());
                        }
                    }
                    case 1 -> {
                        if (dlab) {
                            divisor = (divisor & 0xff) | (op.value() << 8);
                        } else {
                            ier = op.value() & 0x0f;
                        }
                    }
                    case 3 -> lcr = op.value();
                    case 4 -> mcr = op.value() & 0x1f;
                    case 7 -> scr = op.value();
                    default -> { }
                }
            } else {
                int value = uart.read(null, port, 1);
                switch (op.offset()) {
                    case 0 -> {
                        if (dlab) {
                            assertEquals(divisor & 0xff, value, "DLL");
                        }
                    }
                    case 1 -> assertEquals(dlab ? divisor >>> 8 : ier, value, dlab ? "DLM" : "IER");
                    case 3 -> assertEquals(lcr, value, "LCR");
                    case 4 -> assertEquals(mcr, value, "MCR");
                    case 5 -> assertEquals(0x60, value & 0x60, "LSR THRE and TEMT");
                    case 7 -> assertEquals(scr, value, "SCR");
                    default -> { }
                }
            }
        }
        assertArrayEquals(expectedOutput.toByteArray(), uart.bytes());
        assertEquals(divisor, uart.divisor());
    }

    @Property(tries = 200)
    void wideAccesses_areByteAccessesOfConsecutivePorts(@ForAll int value) {
        Uart16550 wide = new Uart16550("COM1", Uart16550.COM1), narrow = new Uart16550("COM1", Uart16550.COM1);
        wide.write(null, Uart16550.COM1 + 7, 2, value); // SCR, then port 0x400, outside the UART
        narrow.write(null, Uart16550.COM1 + 7, 1, value);
        assertEquals(narrow.read(null, Uart16550.COM1 + 7, 1) | 0xff00, wide.read(null, Uart16550.COM1 + 7, 2));
        wide.write(null, Uart16550.COM1 + 3, 4, 0x0307_0103); // LCR 0x03, MCR 0x01, LSR (ignored), MSR (ignored)
        assertEquals(0x03, wide.read(null, Uart16550.COM1 + 3, 1));
        assertEquals(0x01, wide.read(null, Uart16550.COM1 + 4, 1));
    }
}
