package dev.kemu.kernel;

/**
 * The Multiboot 1 information block (specification 0.6.96, section 3.3), defined once: the loader side
 * ({@code dev.kemu.boot.MultibootInfo}) writes it, {@link MultibootMemoryMap} and the guest's
 * {@code kmain.S} read it. The assembly gets the same names from {@code kernel-asm/include/multiboot.inc};
 * a test holds both equal. Only the fields kemu fills are named; the others stay 0.
 *
 * <pre>
 *   multiboot_info (EBX)                          memory map entry (at mmap_addr, mmap_length bytes in all)
 *   offset  field                      flag bit   offset  field
 *    0      u32 flags                              0      u32 size      bytes after this field (20)
 *    4      u32 mem_lower  KiB below 1 MiB   0     4      u64 base_addr
 *    8      u32 mem_upper  KiB from 1 MiB    0    12      u64 length
 *   12      u32 boot_device (not filled)     1    20      u32 type      1 = usable RAM
 *   16      u32 cmdline    physical address  2    24      (next entry: this + 4 + size)
 *   20      u32 mods_count                   3
 *   24      u32 mods_addr  physical address  3    module entry (at mods_addr, 16 bytes each)
 *   28..43  symbols (not filled)           4/5     0      u32 mod_start  physical, inclusive
 *   44      u32 mmap_length                  6     4      u32 mod_end    physical, exclusive
 *   48      u32 mmap_addr  physical address  6     8      u32 string     physical address of its cmdline
 *   52..63  drives, config table (not filled)     12      u32 reserved   0
 *   64      u32 boot_loader_name  address    9
 *   68..87  APM, VBE (not filled)         10-11
 *   88      (end of the block)
 * </pre>
 *
 * The memory map entries are packed: {@code base_addr} is not 8-byte aligned.
 */
public final class MultibootLayout {
    public static final int MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE = 16,
            MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44, MBI_MMAP_ADDR = 48,
            MBI_BOOT_LOADER_NAME = 64;
    /** Bytes of the block up to and including the VBE fields (specification 0.6.96). */
    public static final int MBI_BYTES = 88;
    /** Bits of {@code flags}: which fields are valid. */
    public static final int MBI_FLAG_MEMORY = 1, MBI_FLAG_CMDLINE = 1 << 2, MBI_FLAG_MODS = 1 << 3,
            MBI_FLAG_MMAP = 1 << 6, MBI_FLAG_BOOT_LOADER_NAME = 1 << 9;

    public static final int MMAP_SIZE = 0, MMAP_BASE = 4, MMAP_LENGTH = 12, MMAP_TYPE = 20;
    /** Bytes of one entry kemu writes, its {@code size} field included. */
    public static final int MMAP_ENTRY_BYTES = 24;
    public static final int MMAP_TYPE_USABLE = 1, MMAP_TYPE_RESERVED = 2;

    public static final int MOD_START = 0, MOD_END = 4, MOD_CMDLINE = 8, MOD_RESERVED = 12;
    public static final int MOD_ENTRY_BYTES = 16;

    private MultibootLayout() {}
}
