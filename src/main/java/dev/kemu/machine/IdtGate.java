package dev.kemu.machine;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A present interrupt or trap gate of the guest's IDT, in either format the CPU reads:
 * <pre>
 * 64-bit (long mode), 16 bytes: offset 15..0 | selector | IST (bits 2..0) | type, DPL, P | offset 31..16
 *                               | offset 63..32 | reserved
 * 32-bit (protected mode), 8 bytes: offset 15..0 | selector | reserved | type, DPL, P | offset 31..16
 * </pre>
 * Types: 0xE interrupt gate (clears IF), 0xF trap gate; in protected mode also 0x5 task gate
 * and 0x6/0x7 16-bit gates, which kemu refuses as unsupported.
 */
public record IdtGate(int vector, long handler, int selector, int ist, boolean interruptGate, int dpl,
                      boolean longMode) {
    private static final int GATE_INTERRUPT = 0xE, GATE_TRAP = 0xF, GATE_TASK = 0x5, GATE_INTERRUPT16 = 0x6,
            GATE_TRAP16 = 0x7;

    /** The gate found for a vector, or what the CPU does when it finds none ({@link DeliveryResult}). */
    public record Lookup(Optional<IdtGate> gate, DeliveryResult failure) {
        static Lookup found(IdtGate gate) {
            return new Lookup(Optional.of(gate), new DeliveryResult.Delivered(gate));
        }

        static Lookup failed(DeliveryResult failure) {
            return new Lookup(Optional.empty(), failure);
        }

        /** Why there is no usable gate; empty when there is one. */
        public String problem() {
            return failure.problem();
        }
    }

    /**
     * Reads vector {@code vector}'s gate from the IDT {@code idtr} points at, through the guest's
     * page tables, in the long-mode or protected-mode format. The checks and the exceptions
     * they raise follow QEMU's do_interrupt64/do_interrupt_protected: past the limit or a
     * wrong type is #GP(vector * 8 + 2), a clear P bit #NP(vector * 8 + 2), an unmapped IDT #PF.
     */
    public static Lookup read(Machine machine, DescriptorTable idtr, int vector, boolean longMode) {
        int size = longMode ? 16 : 8;
        int selectorError = vector * 8 + 2; // IDT bit; QEMU leaves EXT clear
        if (idtr.limit() < (long) vector * size + size - 1) {
            return Lookup.failed(new DeliveryResult.Faulted(ExceptionVector.GP, selectorError, 0, String.format(
                    "the IDT (limit 0x%x) has no gate for vector %d", idtr.limit(), vector)));
        }
        long address = idtr.base() + (long) vector * size;
        OptionalLong low = machine.readVirtual64(address);
        OptionalLong high = longMode ? machine.readVirtual64(address + 8) : OptionalLong.of(0);
        if (low.isEmpty() || high.isEmpty()) {
            return Lookup.failed(new DeliveryResult.Faulted(ExceptionVector.PF, 0, address,
                    String.format("the IDT gate for vector %d at V0x%x is not mapped", vector, address)));
        }
        long bits = low.getAsLong();
        int type = (int) (bits >>> 40) & 0xf;
        boolean present = (bits & (1L << 47)) != 0;
        if (!longMode && present && (type == GATE_TASK || type == GATE_INTERRUPT16 || type == GATE_TRAP16)) {
            return Lookup.failed(new DeliveryResult.Unsupported(String.format(
                    "the IDT gate for vector %d is a %s (0x%016x); kemu delivers through 32-bit interrupt and trap "
                            + "gates only: use type 0xE or 0xF", vector,
                    type == GATE_TASK ? "task gate" : "16-bit gate", bits)));
        }
        if (type != GATE_INTERRUPT && type != GATE_TRAP) {
            return Lookup.failed(new DeliveryResult.Faulted(ExceptionVector.GP, selectorError, 0, String.format(
                    "the IDT gate for vector %d is not a %s interrupt or trap gate (0x%016x)", vector,
                    longMode ? "64-bit" : "32-bit", bits)));
        }
        if (!present) {
            return Lookup.failed(new DeliveryResult.Faulted(ExceptionVector.NP, selectorError, 0, String.format(
                    "the IDT gate for vector %d is not present (0x%016x)", vector, bits)));
        }
        long handler = (bits & 0xffff) | ((bits >>> 32) & 0xffff0000L) | (high.getAsLong() << 32);
        int ist = longMode ? (int) (bits >>> 32) & 7 : 0;
        return Lookup.found(new IdtGate(vector, handler, (int) (bits >>> 16) & 0xffff, ist, type == GATE_INTERRUPT,
                (int) (bits >>> 45) & 3, longMode));
    }
}
