package dev.kemu.machine;

import java.util.StringJoiner;

/** One 64-bit x86-64 paging-structure entry, any level, as a value over its raw bits. */
public record PageTableEntry(long raw) {
    public static final long PRESENT = 1L;
    public static final long WRITABLE = 1L << 1;
    public static final long USER = 1L << 2;
    public static final long WRITE_THROUGH = 1L << 3;
    public static final long CACHE_DISABLE = 1L << 4;
    public static final long ACCESSED = 1L << 5;
    public static final long DIRTY = 1L << 6;
    public static final long HUGE = 1L << 7;
    public static final long GLOBAL = 1L << 8;
    public static final long NO_EXECUTE = 1L << 63;
    /** Physical address bits 51..12 of a table or 4 KiB frame. */
    public static final long ADDRESS_MASK = 0x000f_ffff_ffff_f000L;

    public static PageTableEntry of(PhysAddr target, long flags) {
        return new PageTableEntry((target.value() & ADDRESS_MASK) | flags);
    }

    public boolean present() {
        return (raw & PRESENT) != 0;
    }

    public boolean writable() {
        return (raw & WRITABLE) != 0;
    }

    public boolean user() {
        return (raw & USER) != 0;
    }

    public boolean huge() {
        return (raw & HUGE) != 0;
    }

    public boolean global() {
        return (raw & GLOBAL) != 0;
    }

    public boolean noExecute() {
        return (raw & NO_EXECUTE) != 0;
    }

    public boolean has(long flag) {
        return (raw & flag) == flag;
    }

    /** The next table, or the 4 KiB frame. For huge pages use {@link #hugeFrame(long)}. */
    public PhysAddr address() {
        return PhysAddr.of(raw & ADDRESS_MASK);
    }

    /** The frame of a huge page of {@code pageSize} bytes (2 MiB or 1 GiB). */
    public PhysAddr hugeFrame(long pageSize) {
        return PhysAddr.of(raw & ADDRESS_MASK & ~(pageSize - 1));
    }

    public String flagString() {
        if (!present()) {
            return "not present";
        }
        StringJoiner flags = new StringJoiner(" ");
        flags.add("P").add(writable() ? "W" : "RO").add(user() ? "U" : "S");
        if ((raw & WRITE_THROUGH) != 0) flags.add("PWT");
        if ((raw & CACHE_DISABLE) != 0) flags.add("PCD");
        if ((raw & ACCESSED) != 0) flags.add("A");
        if ((raw & DIRTY) != 0) flags.add("D");
        if (huge()) flags.add("PS");
        if (global()) flags.add("G");
        if (noExecute()) flags.add("NX");
        return flags.toString();
    }

    @Override
    public String toString() {
        return String.format("0x%016x [%s]", raw, flagString());
    }
}
