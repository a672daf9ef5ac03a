package dev.kemu.kernel;

/**
 * The Multiboot 1 information block (specification section 3.3), defined once: the loader side
 * ({@code dev.kemu.boot.MultibootInfo}) writes it, {@link MultibootMemoryMap} and the guest's
 * {@code kmain.S} read it. The assembly gets the same names from {@code kernel-asm/include/multiboot.inc};
 * a test holds both equal. Only the fields kemu uses are named.
 *
 * <pre>
 *   multiboot_info (EBX)                      memory map entry (at mmap_addr, mmap_length bytes in all)
 *   offset  field                             offset  field
 *    0      u32 flags                          0      u32 size      bytes after this field (20)
 *    4      u32 mem_lower  KiB below 1 MiB     4      u64 base_addr
 *    8      u32 mem_upper  KiB from 1 MiB     12      u64 length
 *   12      u32 boot_device                   20      u32 type      1 = usable RAM
 *   16      u32 cmdline    physical address   24      (next entry: this + 4 + size)
 *   20..43  modules, symbols (not used)
 *   44      u32 mmap_length
 *   48      u32 mmap_addr  physical address
 * </pre>
 *
 * The entries are packed: {@code base_addr} is not 8-byte aligned.
 */
public final class MultibootLayout {
    public static final int MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_CMDLINE = 16,
            MBI_MMAP_LENGTH = 44, MBI_MMAP_ADDR = 48;
    /** Bits of {@code flags}: which fields are valid. */
    public static final int MBI_FLAG_MEMORY = 1, MBI_FLAG_CMDLINE = 1 << 2, MBI_FLAG_MMAP = 1 << 6;

    public static final int MMAP_SIZE = 0, MMAP_BASE = 4, MMAP_LENGTH = 12, MMAP_TYPE = 20;
    /** Bytes of one entry kemu writes, its {@code size} field included. */
    public static final int MMAP_ENTRY_BYTES = 24;
    public static final int MMAP_TYPE_USABLE = 1, MMAP_TYPE_RESERVED = 2;

    private MultibootLayout() {}
}
