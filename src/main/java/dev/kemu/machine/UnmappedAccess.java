package dev.kemu.machine;

import dev.kemu.unicorn.UcError;

/**
 * A guest load, store or instruction fetch that reached a physical address with nothing
 * behind it (neither guest RAM nor a claimed device), as the engine's unmapped-memory hook
 * saw it: the address (physical: with paging on, Unicorn reports it after translation), the
 * access, its width, RIP, and what a PC has at that address.
 */
public record UnmappedAccess(Access.Kind kind, PhysAddr address, int size, long rip, String pcDevice) {
    public UnmappedAccess {
        java.util.Objects.requireNonNull(kind, "kind");
        java.util.Objects.requireNonNull(address, "address");
        java.util.Objects.requireNonNull(pcDevice, "pcDevice");
    }

    /** The native error Unicorn ends the run with for this kind of access. */
    public UcError error() {
        return switch (kind) {
            case READ -> UcError.READ_UNMAPPED;
            case WRITE -> UcError.WRITE_UNMAPPED;
            case FETCH -> UcError.FETCH_UNMAPPED;
        };
    }

    /**
     * One sentence, e.g. {@code 4-byte read of P0xfee00020 (local APIC ID register), which kemu
     * does not emulate, at RIP 0x1000 (UC_ERR_READ_UNMAPPED)}.
     */
    public String describe() {
        String what = switch (kind) {
            case READ -> size + "-byte read of";
            case WRITE -> size + "-byte write to";
            case FETCH -> "instruction fetch from";
        };
        String nothing = pcDevice.startsWith("above the end") || pcDevice.equals("guest RAM")
                ? "where nothing is mapped" : "which kemu does not emulate";
        return String.format("%s %s (%s), %s, at RIP 0x%x (%s)", what, address, pcDevice, nothing, rip,
                error().nativeName());
    }
}
