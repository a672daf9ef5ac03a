package dev.kemu.unicorn;

/** {@code uc_hook_type} bits. */
public final class HookType {
    public static final int INTR = 1;
    public static final int INSN = 1 << 1;
    public static final int CODE = 1 << 2;
    public static final int BLOCK = 1 << 3;
    public static final int MEM_READ_UNMAPPED = 1 << 4;
    public static final int MEM_WRITE_UNMAPPED = 1 << 5;
    public static final int MEM_FETCH_UNMAPPED = 1 << 6;
    public static final int MEM_READ_PROT = 1 << 7;
    public static final int MEM_WRITE_PROT = 1 << 8;
    public static final int MEM_FETCH_PROT = 1 << 9;
    public static final int MEM_READ = 1 << 10;
    public static final int MEM_WRITE = 1 << 11;
    public static final int MEM_FETCH = 1 << 12;
    public static final int MEM_READ_AFTER = 1 << 13;
    public static final int INSN_INVALID = 1 << 14;
    /** UC_HOOK_TLB_FILL: asked for each TLB fill while the engine is in {@link Unicorn#setVirtualTlb virtual TLB} mode. */
    public static final int TLB_FILL = 1 << 17;
    public static final int MEM_UNMAPPED = MEM_READ_UNMAPPED | MEM_WRITE_UNMAPPED | MEM_FETCH_UNMAPPED;
    public static final int MEM_PROT = MEM_READ_PROT | MEM_WRITE_PROT | MEM_FETCH_PROT;

    /** {@code uc_mem_type} values passed to memory callbacks. */
    public static final int MEM_TYPE_READ = 16, MEM_TYPE_WRITE = 17, MEM_TYPE_FETCH = 18,
            MEM_TYPE_READ_UNMAPPED = 19, MEM_TYPE_WRITE_UNMAPPED = 20, MEM_TYPE_FETCH_UNMAPPED = 21,
            MEM_TYPE_WRITE_PROT = 22, MEM_TYPE_READ_PROT = 23, MEM_TYPE_FETCH_PROT = 24;

    private HookType() {}
}
