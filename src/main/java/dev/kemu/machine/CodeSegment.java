package dev.kemu.machine;

/**
 * The code segment the CPU is running with: its hidden descriptor cache (selector, base, limit
 * and the attribute bits of the descriptor's high word, as QEMU keeps them), not the GDT entry in
 * memory, which the guest may have changed or unmapped since it loaded CS.
 */
public record CodeSegment(int selector, long base, int limit, int flags) {
    private static final int PRESENT = 1 << 15, LONG = 1 << 21, DEFAULT_32 = 1 << 22;

    /** L: 64-bit code (meaningful while EFER.LMA is set; otherwise the CPU ignores it). */
    public boolean longMode() {
        return (flags & LONG) != 0;
    }

    /** D/B: 32-bit default operand size (16-bit when clear); must be clear when L is set. */
    public boolean defaultSize32() {
        return (flags & DEFAULT_32) != 0;
    }

    public boolean present() {
        return (flags & PRESENT) != 0;
    }

    public int dpl() {
        return (flags >> 13) & 3;
    }

    /** "64-bit", "32-bit" or "16-bit": the code size the descriptor selects (with EFER.LMA set for 64-bit). */
    public String size() {
        return longMode() ? "64-bit" : defaultSize32() ? "32-bit" : "16-bit";
    }
}
