package dev.kemu.debug.leaks;

/** Which allocator handed out an object the leak scan tracks. */
public enum LeakKind {
    /** An object of a kmalloc size class ({@code kmalloc-8} ... {@code kmalloc-2048}). */
    KMALLOC,
    /** An object of a kmem_cache the guest created. */
    CACHE,
    /** Whole pages behind a large kmalloc (frames typed HEAP). */
    PAGES,
    /** A vmalloc area. */
    VMALLOC
}
