package dev.kemu.kernel;

/**
 * Numbers shared with the guest, mirrored from {@code kernel-asm/include/kemu.inc}
 * (a test checks that both agree). docs/ABI.md explains them.
 */
public final class GuestAbi {
    public static final long KERNEL_VMA = 0xffff_ffff_8000_0000L;
    public static final int HYPERCALL_PORT = 0xE6;
    public static final int KEMU_MAGIC = 0x6B656D75;
    public static final int MULTIBOOT_HEADER_MAGIC = 0x1BADB002;
    public static final int MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002;

    /** Hypercall numbers (RAX); arguments and results in docs/ABI.md. */
    public static final int HC_PROBE = 0, HC_MM_INIT = 1, HC_FRAME_ALLOC = 2, HC_FRAME_FREE = 3, HC_VMMAP = 4,
            HC_VMUNMAP = 5, HC_TRANSLATE = 6, HC_PROTECT = 7, HC_VMALLOC = 8, HC_VFREE = 9, HC_CACHE_CREATE = 10,
            HC_CACHE_ALLOC = 11, HC_CACHE_FREE = 12, HC_CACHE_DESTROY = 13, HC_KMALLOC = 14, HC_KFREE = 15,
            HC_MM_STAT = 16, HC_VMA_RESERVE = 17, HC_VMA_RELEASE = 18, HC_SPACE_CREATE = 19, HC_SPACE_DESTROY = 20,
            HC_SPACE_CLONE = 21, HC_SPACE_MAP = 22, HC_SPACE_UNMAP = 23, HC_SPACE_PROTECT = 24, HC_CACHE_CTOR_NEXT = 25,
            HC_CACHE_CTOR = 26;
    /** alloc_pages_node (order, GFP flags, node or -1 for the calling CPU's); Java-side only so far (docs/ABI.md). */
    public static final int HC_FRAME_ALLOC_NODE = 30;

    /** Flag bits of HC_FRAME_ALLOC, HC_CACHE_ALLOC and HC_KMALLOC. */
    public static final long ALLOC_ZERO = 1;
    /** HC_FRAME_ALLOC's GFP bits beyond ALLOC_ZERO (= __GFP_ZERO): zone modifiers and atomic. */
    public static final long GFP_DMA = 0x10, GFP_DMA32 = 0x20, GFP_ATOMIC = 0x40;
    /** GFP bit: only the requested (or the calling CPU's) NUMA node, no fallback ({@code __GFP_THISNODE}). */
    public static final long GFP_THISNODE = 0x80;
    /** HC_FRAME_ALLOC_NODE's node argument meaning "the calling CPU's node" (Linux's NUMA_NO_NODE). */
    public static final long NUMA_NO_NODE = -1;
    /** HC_VMMAP flag selecting a 2 MiB page (the PTE's PS bit). */
    public static final long MAP_HUGE = 1L << 7;
    /** HC_MM_STAT selectors. */
    public static final int STAT_FREE_FRAMES = 0, STAT_TOTAL_FRAMES = 1, STAT_DIRECT_MAP = 2;

    /** Negative errno-style results. */
    public static final long EPERM = -1, ENOMEM = -12, EFAULT = -14, EBUSY = -16, EEXIST = -17, ENODEV = -19, EINVAL = -22, ENOSYS = -38;

    /** The name of hypercall {@code number} as kemu.inc spells it, or {@code HC_<number>} for an unknown one. */
    public static String hypercallName(int number) {
        return switch (number) {
            case HC_PROBE -> "HC_PROBE";
            case HC_MM_INIT -> "HC_MM_INIT";
            case HC_FRAME_ALLOC -> "HC_FRAME_ALLOC";
            case HC_FRAME_FREE -> "HC_FRAME_FREE";
            case HC_VMMAP -> "HC_VMMAP";
            case HC_VMUNMAP -> "HC_VMUNMAP";
            case HC_TRANSLATE -> "HC_TRANSLATE";
            case HC_PROTECT -> "HC_PROTECT";
            case HC_VMALLOC -> "HC_VMALLOC";
            case HC_VFREE -> "HC_VFREE";
            case HC_CACHE_CREATE -> "HC_CACHE_CREATE";
            case HC_CACHE_ALLOC -> "HC_CACHE_ALLOC";
            case HC_CACHE_FREE -> "HC_CACHE_FREE";
            case HC_CACHE_DESTROY -> "HC_CACHE_DESTROY";
            case HC_KMALLOC -> "HC_KMALLOC";
            case HC_KFREE -> "HC_KFREE";
            case HC_MM_STAT -> "HC_MM_STAT";
            case HC_VMA_RESERVE -> "HC_VMA_RESERVE";
            case HC_VMA_RELEASE -> "HC_VMA_RELEASE";
            case HC_SPACE_CREATE -> "HC_SPACE_CREATE";
            case HC_SPACE_DESTROY -> "HC_SPACE_DESTROY";
            case HC_SPACE_CLONE -> "HC_SPACE_CLONE";
            case HC_SPACE_MAP -> "HC_SPACE_MAP";
            case HC_SPACE_UNMAP -> "HC_SPACE_UNMAP";
            case HC_SPACE_PROTECT -> "HC_SPACE_PROTECT";
            case HC_CACHE_CTOR_NEXT -> "HC_CACHE_CTOR_NEXT";
            case HC_CACHE_CTOR -> "HC_CACHE_CTOR";
            case HC_FRAME_ALLOC_NODE -> "HC_FRAME_ALLOC_NODE";
            default -> "HC_" + number;
        };
    }

    private GuestAbi() {}
}
