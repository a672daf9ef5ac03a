package dev.kemu.machine;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A present 64-bit interrupt or trap gate of the guest's IDT (16 bytes: offset 15..0,
 * selector, IST, type/DPL/P, offset 31..16, offset 63..32, reserved).
 */
public record IdtGate(int vector, long handler, int selector, int ist, boolean interruptGate) {
    private static final int GATE_INTERRUPT = 0xE, GATE_TRAP = 0xF;

    /** The gate found for a vector, or the sentence saying why there is none. */
    public record Lookup(Optional<IdtGate> gate, String problem) {
        static Lookup found(IdtGate gate) {
            return new Lookup(Optional.of(gate), "");
        }

        static Lookup missing(String problem) {
            return new Lookup(Optional.empty(), problem);
        }
    }

    /** Reads vector {@code vector}'s gate from the IDT {@code idtr} points at, through the guest's page tables. */
    public static Lookup read(Machine machine, DescriptorTable idtr, int vector) {
        if (idtr.limit() < vector * 16L + 15) {
            return Lookup.missing(String.format("the IDT (limit 0x%x) has no gate for vector %d", idtr.limit(), vector));
        }
        OptionalLong gateLow = machine.readVirtual64(idtr.base() + vector * 16L);
        OptionalLong gateHigh = machine.readVirtual64(idtr.base() + vector * 16L + 8);
        if (gateLow.isEmpty() || gateHigh.isEmpty()) {
            return Lookup.missing("the IDT gate for vector " + vector + " is not mapped");
        }
        long low = gateLow.getAsLong();
        int type = (int) (low >>> 40) & 0xf;
        if ((low & (1L << 47)) == 0 || (type != GATE_INTERRUPT && type != GATE_TRAP)) {
            return Lookup.missing(String.format("the IDT gate for vector %d is not a present 64-bit gate (0x%016x)",
                    vector, low));
        }
        long handler = (low & 0xffff) | ((low >>> 32) & 0xffff0000L) | (gateHigh.getAsLong() << 32);
        return Lookup.found(new IdtGate(vector, handler, (int) (low >>> 16) & 0xffff, (int) (low >>> 32) & 7,
                type == GATE_INTERRUPT));
    }
}
