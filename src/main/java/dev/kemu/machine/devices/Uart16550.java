package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/**
 * A 16550-compatible UART behind eight I/O ports (COM1 at 0x3f8, COM2 at 0x2f8), with the
 * registers a polling driver uses. Reset values and register behaviour follow QEMU's
 * {@code hw/char/serial.c}, so a kernel sees the same UART under kemu and under QEMU:
 *
 * <pre>
 * offset  DLAB=0 read   DLAB=0 write   DLAB=1         reset
 *   0     RBR           THR            DLL            divisor 0x000c (9600 baud)
 *   1     IER           IER (low 4)    DLM            IER 0x00
 *   2     IIR           FCR            (IIR/FCR)      IIR 0x01 (no interrupt), FCR 0x00
 *   3     LCR           LCR                           0x00 (bit 7 = DLAB)
 *   4     MCR           MCR (low 5)                   0x08 (OUT2; bit 4 = loopback)
 *   5     LSR           (ignored)                     0x60 (THRE, TEMT)
 *   6     MSR           (ignored)                     0xb0 (DCD, DSR, CTS)
 *   7     SCR           SCR                           0x00
 * </pre>
 *
 * Transmission takes no time: a byte written to THR is output at once, so LSR always shows
 * THRE and TEMT. Received bytes come from a {@link SerialInput}; LSR.DR is set while one is
 * waiting, and RBR reads them in order (0 when there is none). In loopback (MCR bit 4) THR
 * feeds the receiver instead of the output and MSR mirrors the MCR outputs, as on the chip.
 * IIR names the pending interrupt as QEMU's serial_update_irq does, and the interrupt line
 * ({@link #connectIrq}: COM1's IRQ 4 on a PC) is high exactly while IIR would name one (level
 * semantics: reading IIR acknowledges THR empty, reading RBR empties received data). As QEMU, the line is
 * not gated by MCR.OUT2. Input that arrives while the guest touches no register is noticed at its
 * next register access. Accesses wider than a
 * byte are split into byte accesses of consecutive ports, as QEMU does ({@code max_access_size = 1}).
 */
public final class Uart16550 implements PortDevice {
    public static final int COM1 = 0x3f8;
    public static final int COM2 = 0x2f8;
    public static final int PORTS = 8;

    static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    static final int LCR_DLAB = 0x80;
    static final int IER_RDI = 0x01, IER_THRI = 0x02;
    static final int IIR_NO_INTERRUPT = 0x01, IIR_THR_EMPTY = 0x02, IIR_RECEIVED_DATA = 0x04, IIR_FIFO_ENABLED = 0xc0;
    static final int FCR_ENABLE = 0x01, FCR_STICKY_BITS = 0xc9;
    static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOPBACK = 0x10;
    static final int LSR_DATA_READY = 0x01, LSR_THR_EMPTY = 0x20, LSR_TRANSMITTER_EMPTY = 0x40;
    static final int MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

    private final String name;
    private final int base;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final SerialInput loopback = SerialInput.none();
    private IntConsumer echo = b -> { };
    private dev.kemu.machine.interrupts.IrqLine irq = high -> { };
    private boolean irqHigh;
    private SerialInput input = SerialInput.none();

    private int divisor, ier, fcr, lcr, mcr, scr;
    /** QEMU's thr_ipending: set when THR empties (always at once here), cleared by a THR write or an IIR read. */
    private boolean thrInterruptPending;

    /** A UART called {@code name} (for messages, e.g. "COM1") whose registers start at port {@code base}. */
    public Uart16550(String name, int base) {
        if (base < 0 || base + PORTS > 0x10000) {
            throw new IllegalArgumentException(String.format("%s: base port 0x%x leaves no room for its %d registers "
                    + "below 0x10000", name, base, PORTS));
        }
        this.name = name;
        this.base = base;
        reset();
    }

    public String name() {
        return name;
    }

    public int base() {
        return base;
    }

    /** Back to the power-on register values (QEMU's serial_reset); output and input are left alone. */
    public void reset() {
        divisor = 0x0c;
        ier = 0;
        fcr = 0;
        lcr = 0;
        mcr = MCR_OUT2;
        scr = 0;
        thrInterruptPending = false;
        loopback.clear();
        updateIrq();
    }

    /** The interrupt line this UART drives (COM1: ISA IRQ 4); unconnected until then. */
    public void connectIrq(dev.kemu.machine.interrupts.IrqLine line) {
        this.irq = java.util.Objects.requireNonNull(line, "an interrupt line");
        irqHigh = false;
        updateIrq();
    }

    /** Drives the line as IIR would read now (without IIR's acknowledging side effect). */
    private void updateIrq() {
        boolean high = (ier & IER_RDI) != 0 && receiving().available() || (ier & IER_THRI) != 0 && thrInterruptPending;
        if (high != irqHigh) {
            irqHigh = high;
            irq.set(high);
        }
    }

    /** Where received bytes come from from now on. */
    public void receiveFrom(SerialInput source) {
        this.input = java.util.Objects.requireNonNull(source, "a serial input (SerialInput.none() for none)");
    }

    /** Also passes every transmitted byte to {@code sink} as it is written (for live output). */
    public void echoTo(IntConsumer sink) {
        this.echo = java.util.Objects.requireNonNull(sink, "an echo sink");
    }

    /** Everything the guest transmitted (loopback excluded), one char per byte. */
    public String text() {
        return output.toString(StandardCharsets.ISO_8859_1);
    }

    public byte[] bytes() {
        return output.toByteArray();
    }

    public void clearOutput() {
        output.reset();
    }

    /** The divisor latch (DLM:DLL); the baud rate is 115200 / divisor. */
    public int divisor() {
        return divisor;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        for (int i = 0; i < size; i++) {
            int offset = port + i - base;
            if (offset >= 0 && offset < PORTS) {
                writeRegister(offset, (value >>> (8 * i)) & 0xff);
            }
        }
        updateIrq();
    }

    @Override
    public int read(Machine machine, int port, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            int offset = port + i - base;
            int b = offset >= 0 && offset < PORTS ? readRegister(offset) : 0xff;
            value |= b << (8 * i);
        }
        updateIrq();
        return value;
    }

    void writeRegister(int offset, int value) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (offset) {
            case RBR_THR_DLL -> {
                if (dlab) {
                    divisor = (divisor & 0xff00) | value;
                } else {
                    transmit(value);
                }
            }
            case IER_DLM -> {
                if (dlab) {
                    divisor = (divisor & 0x00ff) | (value << 8);
                } else {
                    ier = value & 0x0f;
                    thrInterruptPending = true; // THR is empty: enabling its interrupt raises it at once
                }
            }
            case IIR_FCR -> {
                if ((value & FCR_ENABLE) != (fcr & FCR_ENABLE)) {
                    loopback.clear(); // switching the FIFOs on or off flushes them
                }
                fcr = value & FCR_STICKY_BITS;
            }
            case LCR -> lcr = value;
            case MCR -> mcr = value & 0x1f;
            case SCR -> scr = value;
            default -> { } // LSR and MSR are read-only
        }
    }

    int readRegister(int offset) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (offset) {
            case RBR_THR_DLL -> dlab ? divisor & 0xff : receive();
            case IER_DLM -> dlab ? (divisor >>> 8) & 0xff : ier;
            case IIR_FCR -> interruptIdentification();
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> LSR_THR_EMPTY | LSR_TRANSMITTER_EMPTY | (receiving().available() ? LSR_DATA_READY : 0);
            case MSR -> modemStatus();
            case SCR -> scr;
            default -> 0xff;
        };
    }

    private void transmit(int value) {
        if ((mcr & MCR_LOOPBACK) != 0) {
            loopback.append((byte) value);
        } else {
            output.write(value);
            echo.accept(value);
        }
        thrInterruptPending = true; // sent at once: THR is empty again
    }

    /** In loopback the receiver hears only the transmitter, not the line (QEMU does not accept input then). */
    private SerialInput receiving() {
        return (mcr & MCR_LOOPBACK) != 0 ? loopback : input;
    }

    private int receive() {
        return receiving().next().orElse(0);
    }

    /** IIR: the highest-priority enabled cause (received data before THR empty), as QEMU's serial_update_irq. */
    private int interruptIdentification() {
        int fifo = (fcr & FCR_ENABLE) != 0 ? IIR_FIFO_ENABLED : 0;
        if ((ier & IER_RDI) != 0 && receiving().available()) {
            return fifo | IIR_RECEIVED_DATA;
        }
        if ((ier & IER_THRI) != 0 && thrInterruptPending) {
            thrInterruptPending = false; // reading IIR acknowledges the THR-empty interrupt
            return fifo | IIR_THR_EMPTY;
        }
        return fifo | IIR_NO_INTERRUPT;
    }

    /** MSR: carrier, data set ready and clear to send; in loopback the MCR outputs wired back to these inputs. */
    private int modemStatus() {
        if ((mcr & MCR_LOOPBACK) == 0) {
            return MSR_DCD | MSR_DSR | MSR_CTS;
        }
        return ((mcr & MCR_RTS) != 0 ? MSR_CTS : 0) | ((mcr & MCR_DTR) != 0 ? MSR_DSR : 0)
                | ((mcr & MCR_OUT1) != 0 ? MSR_RI : 0) | ((mcr & MCR_OUT2) != 0 ? MSR_DCD : 0);
    }

    @Override
    public String toString() {
        return String.format("%s (16550 UART at 0x%x)", name, base);
    }
}
