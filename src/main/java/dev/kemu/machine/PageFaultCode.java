package dev.kemu.machine;

import java.util.StringJoiner;

/** The bits of the #PF error code the CPU pushes (Intel SDM vol. 3, "Page-Fault Exceptions"). */
public final class PageFaultCode {
    /** 0: the page was not present; 1: a protection or reserved-bit violation. */
    public static final int PRESENT = 1;
    /** The access was a write. */
    public static final int WRITE = 1 << 1;
    /** The access came from CPL 3. */
    public static final int USER = 1 << 2;
    /** A paging-structure entry had a reserved bit set. */
    public static final int RESERVED = 1 << 3;
    /** The access was an instruction fetch; set only when EFER.NXE or CR4.SMEP is on. */
    public static final int FETCH = 1 << 4;

    private PageFaultCode() {}

    /** For example {@code 0x7 (P W U)} or {@code 0x0 (not present, read, supervisor)}. */
    public static String describe(int code) {
        StringJoiner bits = new StringJoiner(" ", String.format("0x%x (", code), ")");
        bits.add((code & PRESENT) != 0 ? "P" : "not present");
        bits.add((code & WRITE) != 0 ? "W" : "read");
        bits.add((code & USER) != 0 ? "U" : "supervisor");
        if ((code & RESERVED) != 0) bits.add("RSVD");
        if ((code & FETCH) != 0) bits.add("I/D");
        return bits.toString();
    }
}
