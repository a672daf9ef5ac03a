package dev.kemu.kernel.mm;

/**
 * Where the memory manager keeps its state in guest RAM. Everything below is guest memory;
 * Java holds only the root's physical address, which the guest also has.
 *
 * <pre>
 * mm root (one page, physical address = first page after the kernel image)
 *   +0    u64  magic "KEMU-MM1"
 *   +8    u64  RAM bytes
 *   +16   u64  frame table physical address
 *   +24   u64  number of frames
 *   +32   u64  free frames
 *   +40   u64  direct map base (virtual)
 *   +48   u64  kernel PML4 physical address
 *   +56   u64  vmalloc area start (virtual)      +64 u64 vmalloc area end (exclusive)
 *   +72   u64  free virtual areas list head (direct-map virtual address of a vm_area, 0 = none)
 *   +80   u64  VMA list head
 *   +88   u64  cache table physical address
 *   +96   u32  cache table capacity             +100 u32 empty slabs kept per cache
 *   +104  u32  vm_area cache id                 +108 u32 first kmalloc cache id
 *   +112  u32  mm_space cache id + 1 (0 = no address space created yet)
 *   +116  u32  number of address spaces         +120 u64 address-space list head (direct-map va, 0 = none)
 *   +128  (unused since the free lists went per node and zone; formerly free_head/free_count per order)
 *   +224  u64  zero page physical address (0 = not allocated yet; the first read fault allocates it)
 *   +0x200 u8  cpu_node[256]   NUMA node of each APIC ID (from the ACPI SRAT; 0 without one)
 *   +0x300 u32 number of NUMA nodes, 1..8         +0x304 u32 CPUs cpu_node describes (0 = no SRAT: all in node 0)
 *   +0x308 u64 node_start_pfn[8]   +0x348 u64 node_end_pfn[8] (exclusive); node n owns [start, end)
 *   +0x400 u32 free_head[node][zone][order]   8 x 3 x 11 (frame numbers; NONE = 0xffffffff); zone 0 DMA,
 *              1 DMA32, 2 NORMAL; list index (node * 3 + zone) * 11 + order ({@link FreeLists})
 *   +0x820 u32 free_count[node][zone][order]  same indexing
 *
 * frame table entry (16 bytes per 4 KiB frame, indexed by frame number)
 *   +0  u8  type (FrameType ordinal)
 *   +1  u8  order of the block this frame heads
 *   +2  u8  flags: 1 = head of a block; 2 = pinned page table (shared, never freed by unmap)
 *   +4  u32 tag: slab -> cache id; page table -> present entries; anonymous page -> reference count
 *           (page-table entries mapping it, in all address spaces); tail of an allocated block ->
 *           its head's frame number (tails of free blocks: stale, splits and merges touch heads only)
 *   +8  u32 next frame number in a free list; head of a slab of a guest-constructor cache ->
 *           objects constructed so far (the constructor runs in index order)
 *   +12 u32 previous frame number in a free list
 * </pre>
 */
public final class MmLayout {
    public static final long MAGIC = 0x314d4d2d554d454bL; // "KEMU-MM1" little-endian
    public static final int MAX_ORDER = 10;
    public static final long PAGE = 4096;
    public static final int NONE = -1;

    static final int ROOT_MAGIC = 0, ROOT_RAM = 8, ROOT_FRAME_TABLE = 16, ROOT_NR_FRAMES = 24, ROOT_FREE_FRAMES = 32,
            ROOT_HHDM = 40, ROOT_PML4 = 48, ROOT_VMALLOC_START = 56, ROOT_VMALLOC_END = 64, ROOT_FREE_AREAS = 72,
            ROOT_VMAS = 80, ROOT_CACHE_TABLE = 88, ROOT_CACHE_CAPACITY = 96, ROOT_EMPTY_SLAB_LIMIT = 100,
            ROOT_VM_AREA_CACHE = 104, ROOT_KMALLOC_FIRST = 108, ROOT_SPACE_CACHE = 112, ROOT_SPACE_COUNT = 116, ROOT_SPACES = 120,
            ROOT_ZERO_PAGE = 224, ROOT_CPU_NODE = 0x200, ROOT_NODE_COUNT = 0x300, ROOT_NODE_CPUS = 0x304, ROOT_NODE_START = 0x308,
            ROOT_NODE_END = 0x348, ROOT_FREE_HEAD = 0x400, ROOT_FREE_COUNT = 0x820;
    /** NUMA nodes the root describes; CPUs (APIC IDs) its cpu_node table covers. */
    public static final int MAX_NODES = 8, CPU_NODE_ENTRIES = 256;
    public static final int ROOT_SIZE = 4096;

    public static final int FRAME_ENTRY = 16;
    static final int FE_TYPE = 0, FE_ORDER = 1, FE_FLAGS = 2, FE_TAG = 4, FE_NEXT = 8, FE_PREV = 12;
    static final int FLAG_HEAD = 1;
    /**
     * A page table adopted at HC_MM_INIT that more than one entry points at (boot.S shares
     * boot_pd between the identity map and the kernel half) or that a kernel-half PML4 entry
     * points at (other address spaces copy those entries): emptying it through one path must
     * not free it while the other still uses it (issue 11, defect 7).
     */
    static final int FLAG_PINNED = 2;

    /** Direct map of all physical memory (PML4 slot 256), as Limine's HHDM. */
    public static final long DIRECT_MAP_BASE = 0xffff_8000_0000_0000L;
    /** Kernel virtual areas for vmalloc (PML4 slot 402, as Linux's vmalloc space). */
    public static final long VMALLOC_START = 0xffff_c900_0000_0000L;
    public static final long VMALLOC_END = VMALLOC_START + (32L << 30);

    /** First address past the user half (PML4 entries 0-255); spaces' VMAs live below it. */
    public static final long USER_END = 0x0000_8000_0000_0000L;
    /** The first PML4 entry of the kernel half, which every address space shares with the kernel. */
    public static final int KERNEL_HALF_FIRST = 256;

    private MmLayout() {}
}
