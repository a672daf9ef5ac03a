package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.MmioDevice;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.interrupts.IpiRouter;
import dev.kemu.machine.interrupts.IrqLine;

/**
 * The I/O APIC at 0xfec00000 with 24 inputs (GSIs 0-23), reached through IOREGSEL (offset 0x00) and
 * IOWIN (0x10): ID (register 0), version (1: 0x00170020 as QEMU's, version 0x20, 24 entries),
 * arbitration (2) and the redirection table (0x10 + 2n, low and high dwords; every entry masked at
 * reset). On the PC wiring kemu uses, ISA IRQ0 (the PIT) arrives on GSI 2, as QEMU's MADT interrupt
 * source override says, and every other ISA IRQ on the GSI of its number (COM1: GSI 4).
 *
 * <p>An unmasked entry sends its vector on each rising edge of its input, to the APIC ID in bits 56-63
 * (physical mode; 0xff = all CPUs) or to the CPUs whose logical ID matches (logical mode), through the
 * {@link IpiRouter} of the local APIC. Not emulated: level-triggered entries (treated as edge: no
 * remote IRR, no EOI broadcast), lowest-priority arbitration (the lowest APIC ID addressed takes it), NMI/SMI/INIT/ExtINT modes.
 */
public final class IoApic implements MmioDevice {
    public static final PhysAddr BASE = PhysAddr.of(0xfec0_0000L);
    public static final long SIZE = 0x1000;
    public static final int PINS = 24;
    static final int VERSION_VALUE = 0x0017_0020;
    private static final long MASKED = 1L << 16;

    private final LocalApic apic;
    private final long[] redirection = new long[PINS];
    private int selected, id, lines;

    /** Sends through {@code apic}'s router (the CPU set's, once installed) and straight into {@code apic} for itself. */
    public IoApic(LocalApic apic) {
        this.apic = apic;
        reset();
    }

    public void reset() {
        java.util.Arrays.fill(redirection, MASKED);
        selected = id = lines = 0;
    }

    /** GSI {@code pin}'s input. */
    public IrqLine pin(int pin) {
        if (pin < 0 || pin >= PINS) {
            throw new IllegalArgumentException("the I/O APIC has GSIs 0-" + (PINS - 1) + ", not " + pin);
        }
        return high -> {
            int bit = 1 << pin;
            boolean rising = high && (lines & bit) == 0;
            lines = high ? lines | bit : lines & ~bit;
            if (rising) {
                deliver(redirection[pin]);
            }
        };
    }

    private void deliver(long entry) {
        if ((entry & MASKED) != 0) {
            return;
        }
        int vector = (int) entry & 0xff;
        int destination = (int) (entry >>> 56);
        boolean logical = (entry & (1 << 11)) != 0;
        boolean lowestPriority = ((entry >> 8) & 7) == 1;
        if (!logical && destination == apic.apicId()) {
            apic.accept(vector);
            return;
        }
        apic.sendFromIoApic(vector, destination, logical, lowestPriority);
    }

    @Override
    public long read(Machine machine, long offset, int size) {
        if (offset == 0) {
            return selected;
        }
        if (offset != 0x10) {
            return 0;
        }
        return switch (selected) {
            case 0 -> id << 24;
            case 1 -> VERSION_VALUE;
            case 2 -> id << 24;
            default -> {
                int index = selected - 0x10;
                if (index < 0 || index >= 2 * PINS) {
                    yield 0;
                }
                long entry = redirection[index >> 1];
                yield (index & 1) == 0 ? entry & 0xffff_ffffL : entry >>> 32;
            }
        };
    }

    @Override
    public void write(Machine machine, long offset, int size, long value) {
        if (offset == 0) {
            selected = (int) value & 0xff;
            return;
        }
        if (offset != 0x10) {
            return;
        }
        if (selected == 0) {
            id = ((int) value >>> 24) & 0xf;
            return;
        }
        int index = selected - 0x10;
        if (index < 0 || index >= 2 * PINS) {
            return; // version and arbitration are read-only
        }
        long entry = redirection[index >> 1];
        if ((index & 1) == 0) {
            entry = (entry & 0xffff_ffff_0000_0000L) | (value & 0xffff_ffffL & ~(1L << 12) & ~(1L << 14));
        } else {
            entry = (entry & 0xffff_ffffL) | ((value & 0xff00_0000L) << 32);
        }
        redirection[index >> 1] = entry;
    }
}
