package dev.kemu.machine.devices;

/**
 * One 8259A programmable interrupt controller: eight edge-triggered inputs, the request (IRR),
 * in-service (ISR) and mask (IMR) registers, initialisation by ICW1-ICW4 and operation by OCW1-OCW3,
 * with fixed priority (IR0 highest). Follows QEMU's {@code hw/intc/i8259.c} where the datasheet
 * leaves a choice. Not emulated: rotating priority (the rotate commands act as their plain EOI),
 * special mask mode, poll mode and level-triggered mode (ICW1.LTIM); {@link DualPic} pairs two chips.
 */
final class Pic8259 {
    private int irr, isr, imr, lines;
    private int vectorBase;
    private int initStep; // 0 = operating; 2, 3, 4 = the ICW expected next
    private boolean icw4Wanted, single, autoEoi, readIsr;

    /** Input {@code irq} driven to {@code high}: a rising edge requests an interrupt. */
    void set(int irq, boolean high) {
        int bit = 1 << irq;
        if (high) {
            if ((lines & bit) == 0) {
                irr |= bit;
            }
            lines |= bit;
        } else {
            lines &= ~bit;
        }
    }

    /** The highest-priority unmasked request that outranks everything in service, or -1. */
    int highestPending() {
        int pending = irr & ~imr;
        if (pending == 0) {
            return -1;
        }
        int request = Integer.numberOfTrailingZeros(pending);
        int inService = isr == 0 ? 8 : Integer.numberOfTrailingZeros(isr);
        return request < inService ? request : -1;
    }

    /** INTA for {@code irq}: request to in service (unless auto-EOI). */
    void acknowledge(int irq) {
        int bit = 1 << irq;
        irr &= ~bit;
        if (!autoEoi) {
            isr |= bit;
        }
    }

    int vector(int irq) {
        return vectorBase + irq;
    }

    void writeCommand(int value) {
        if ((value & 0x10) != 0) { // ICW1: start initialisation
            irr = isr = imr = lines = 0;
            readIsr = autoEoi = false;
            icw4Wanted = (value & 0x01) != 0;
            single = (value & 0x02) != 0;
            initStep = 2;
        } else if ((value & 0x08) != 0) { // OCW3
            if ((value & 0x02) != 0) {
                readIsr = (value & 0x01) != 0;
            }
        } else { // OCW2
            int command = value >> 5;
            switch (command) {
                case 1, 5 -> isr &= isr - 1; // non-specific EOI: the highest in service (lowest bit)
                case 3, 7 -> isr &= ~(1 << (value & 7)); // specific EOI
                default -> { } // rotation and priority commands: fixed priority is kept
            }
        }
    }

    void writeData(int value) {
        switch (initStep) {
            case 2 -> {
                vectorBase = value & 0xf8;
                initStep = single ? (icw4Wanted ? 4 : 0) : 3;
            }
            case 3 -> initStep = icw4Wanted ? 4 : 0; // ICW3: the cascade wiring is fixed (slave on IR2)
            case 4 -> {
                autoEoi = (value & 0x02) != 0;
                initStep = 0;
            }
            default -> imr = value & 0xff; // OCW1
        }
    }

    int readCommand() {
        return readIsr ? isr : irr;
    }

    int readData() {
        return imr;
    }

    int irr() {
        return irr;
    }

    int isr() {
        return isr;
    }

    int imr() {
        return imr;
    }

    /** As a BIOS leaves the chip: initialised with {@code base}, every input in {@code mask} masked. */
    void reset(int base, int mask) {
        irr = isr = lines = initStep = 0;
        vectorBase = base;
        imr = mask;
        icw4Wanted = single = autoEoi = readIsr = false;
    }
}
