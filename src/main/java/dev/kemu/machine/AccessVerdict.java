package dev.kemu.machine;

/**
 * What the MMU does with one access: lets it through to a physical address, raises a #PF with
 * the error code the CPU would push, or raises #GP(0) for a non-canonical address. A walk that
 * meets a table outside guest RAM has no hardware answer and says so.
 */
public sealed interface AccessVerdict {
    /** Why a page fault happens. */
    enum Cause {
        NOT_PRESENT, RESERVED_BIT, USER_ACCESS_TO_SUPERVISOR_PAGE, WRITE_TO_READ_ONLY, FETCH_FROM_NO_EXECUTE,
        SMEP, SMAP
    }

    /** The reason in words, for stop reasons and reports. */
    String reason();

    /** The access reaches {@code physical} inside a page of {@code pageSize} bytes. */
    record Allowed(PhysAddr physical, long pageSize) implements AccessVerdict {
        @Override
        public String reason() {
            return "";
        }
    }

    /** A #PF: CR2 = the address, {@code errorCode} as pushed, {@code level} the entry that decided it (4 = PML4). */
    record PageFault(int errorCode, Cause cause, int level, String reason) implements AccessVerdict {}

    /** A #GP(0) before any walk: bits 63..47 of the address differ. */
    record NonCanonical(String reason) implements AccessVerdict {}

    /** The {@code level} table lies outside guest RAM: not something the CPU reports, so no fault is modelled. */
    record TableOutsideRam(int level, PhysAddr table, String reason) implements AccessVerdict {}
}
