package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.interrupts.IrqLine;

/**
 * The PC's two cascaded 8259A PICs: master at ports 0x20-0x21 (IRQ 0-7), slave at 0xa0-0xa1
 * (IRQ 8-15) on the master's IR2. {@link #acknowledge()} is the CPU's INTA cycle: the vector of the
 * highest-priority request, or the spurious IRQ 7 (master) / IRQ 15 (slave) vector when the request
 * went away, in which case nothing is put in service on that chip, as on the 8259A.
 */
public final class DualPic implements PortDevice {
    public static final int MASTER = 0x20, SLAVE = 0xa0;
    private static final int CASCADE = 2;

    private final Pic8259 master = new Pic8259();
    private final Pic8259 slave = new Pic8259();
    private final Runnable changed;

    /** {@code changed} runs whenever the INTR output may have changed (the CPU then re-checks). */
    public DualPic(Runnable changed) {
        this.changed = changed;
        reset();
    }

    /** The input line of ISA IRQ {@code irq} (0-15). */
    public IrqLine line(int irq) {
        if (irq < 0 || irq > 15 || irq == CASCADE) {
            throw new IllegalArgumentException("ISA IRQ " + irq + " is not a PIC input (0-15, 2 is the cascade)");
        }
        return high -> {
            if (irq < 8) {
                master.set(irq, high);
            } else {
                slave.set(irq - 8, high);
            }
            update();
        };
    }

    /** Whether the master's INTR output is asserted. */
    public boolean interruptRequested() {
        return master.highestPending() >= 0;
    }

    /** INTA: the vector to deliver, with the request moved to in service. */
    public int acknowledge() {
        int irq = master.highestPending();
        int vector;
        if (irq < 0) {
            vector = master.vector(7); // spurious IRQ 7: nothing in service
        } else if (irq == CASCADE) {
            master.acknowledge(CASCADE);
            int slaveIrq = slave.highestPending();
            if (slaveIrq < 0) {
                vector = slave.vector(7); // spurious IRQ 15: the master's IR2 stays in service
            } else {
                slave.acknowledge(slaveIrq);
                vector = slave.vector(slaveIrq);
            }
        } else {
            master.acknowledge(irq);
            vector = master.vector(irq);
        }
        update();
        return vector;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        Pic8259 chip = (port & 0xf0) == SLAVE ? slave : master;
        if ((port & 1) == 0) {
            chip.writeCommand(value & 0xff);
        } else {
            chip.writeData(value & 0xff);
        }
        update();
    }

    @Override
    public int read(Machine machine, int port, int size) {
        Pic8259 chip = (port & 0xf0) == SLAVE ? slave : master;
        return (port & 1) == 0 ? chip.readCommand() : chip.readData();
    }

    /**
     * The state a PC BIOS leaves (SeaBIOS under QEMU): master at vectors 0x08-0x0f, slave at 0x70-0x77,
     * every IRQ masked but the cascade. A kernel remaps and unmasks what it wants.
     */
    public void reset() {
        master.reset(0x08, 0xff & ~(1 << CASCADE));
        slave.reset(0x70, 0xff);
    }

    /** The slave's INT output drives the master's IR2; then the CPU re-checks. */
    private void update() {
        master.set(CASCADE, slave.highestPending() >= 0);
        changed.run();
    }
}
