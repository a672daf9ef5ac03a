package dev.kemu.machine;

import dev.kemu.nativelib.AnonymousMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Guest physical RAM, {@code [0, size)}, as host memory that Java reads and writes directly
 * (no native call per access). Unicorn maps the same bytes with {@code uc_mem_map_ptr}.
 * Writes of guest code through this view bypass Unicorn's translation cache; callers that
 * rewrite code must drop it ({@link Machine#codeChanged}).
 *
 * <p>Accesses go through one static segment over the whole host address space at the RAM's
 * host address, bounds-checked here against RAM: C2 folds a constant segment's session,
 * alignment and bounds checks, which on the RAM's own segment (a field) cost more than the
 * access itself, and the kmalloc/kfree services make dozens of accesses per call. Like Unicorn's
 * mapping of the same bytes, this view does not keep the memory alive: its owner frees it last.
 */
public final class GuestRam {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private static final long PAGE = 4096;
    /** Every host address, from 0: what the accessors read and write at {@code base + physical}. */
    private static final MemorySegment HOST = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final MemorySegment memory;
    private final long base;
    private final long size;
    /** Where whole pages can go back to the host as zero pages; null for memory that is not mmap'd. */
    private final AnonymousMemory pages;
    private DirtyPages dirty;

    /** Guest RAM in native memory that outlives this view ({@code Arena.allocate}, not an array). */
    public GuestRam(MemorySegment memory) {
        this(memory, null);
    }

    public GuestRam(AnonymousMemory memory) {
        this(memory.segment(), memory);
    }

    private GuestRam(MemorySegment memory, AnonymousMemory pages) {
        if (!memory.isNative()) {
            throw new IllegalArgumentException("guest RAM must be native memory (Arena.allocate or mmap), not a heap"
                    + " segment of " + memory.byteSize() + " bytes");
        }
        this.memory = memory;
        this.pages = pages;
        this.base = memory.address();
        this.size = memory.byteSize();
    }

    /** Marks every page written through this view in {@code pages} (null stops tracking). */
    public void trackWrites(DirtyPages pages) {
        this.dirty = pages;
    }

    public long size() {
        return size;
    }

    public MemorySegment segment() {
        return memory;
    }

    public boolean contains(long physical, long length) {
        return physical >= 0 && length >= 0 && physical <= size() - length;
    }

    public long read64(long physical) {
        return HOST.get(U64, base + checked(physical, 8));
    }

    public int read32(long physical) {
        return HOST.get(U32, base + checked(physical, 4));
    }

    public int read16(long physical) {
        return Short.toUnsignedInt(HOST.get(U16, base + checked(physical, 2)));
    }

    public int read8(long physical) {
        return Byte.toUnsignedInt(HOST.get(ValueLayout.JAVA_BYTE, base + checked(physical, 1)));
    }

    public void write64(long physical, long value) {
        if (dirty != null) {
            dirty.mark(physical, 8);
        }
        HOST.set(U64, base + checked(physical, 8), value);
    }

    public void write32(long physical, int value) {
        if (dirty != null) {
            dirty.mark(physical, 4);
        }
        HOST.set(U32, base + checked(physical, 4), value);
    }

    public void write16(long physical, int value) {
        if (dirty != null) {
            dirty.mark(physical, 2);
        }
        HOST.set(U16, base + checked(physical, 2), (short) value);
    }

    public void write8(long physical, int value) {
        if (dirty != null) {
            dirty.mark(physical, 1);
        }
        HOST.set(ValueLayout.JAVA_BYTE, base + checked(physical, 1), (byte) value);
    }

    public byte[] read(long physical, int length) {
        byte[] bytes = new byte[length];
        MemorySegment.copy(memory, ValueLayout.JAVA_BYTE, checked(physical, length), bytes, 0, length);
        return bytes;
    }

    public void write(long physical, byte[] bytes) {
        if (dirty != null) {
            dirty.mark(physical, bytes.length);
        }
        MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, checked(physical, bytes.length), bytes.length);
    }

    public void fill(long physical, long length, byte value) {
        if (dirty != null) {
            dirty.mark(physical, length);
        }
        memory.asSlice(checked(physical, length), length).fill(value);
    }

    /**
     * Zeroes a range the guest may never touch, such as an image's BSS: its whole pages go back to the host
     * ({@code madvise}) and read as zero without being faulted in, where a fill would fault in every one
     * (about 11 us each in a VM). Not for memory about to be used: its next touch pays that fault instead.
     */
    public void zeroUntouched(long physical, long length) {
        long start = (checked(physical, length) + PAGE - 1) & -PAGE;
        long end = (physical + length) & -PAGE;
        if (pages == null || end <= start) {
            fill(physical, length, (byte) 0);
            return;
        }
        fill(physical, start - physical, (byte) 0);
        if (dirty != null) {
            dirty.mark(start, end - start);
        }
        pages.discard(start, end - start);
        fill(end, physical + length - end, (byte) 0);
    }

    /** Writes {@code text} as ASCII followed by a NUL byte. */
    public void writeCString(long physical, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        write(physical, bytes);
        write8(physical + bytes.length, 0);
    }

    public String readCString(long physical, int maxLength) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < maxLength; i++) {
            int c = read8(physical + i);
            if (c == 0) {
                break;
            }
            text.append((char) c);
        }
        return text.toString();
    }

    private long checked(long physical, long length) {
        if (!contains(physical, length)) {
            throw new IndexOutOfBoundsException(String.format(
                    "guest RAM access at %s, 0x%x bytes, outside RAM [P0x0, P0x%x)", PhysAddr.of(physical), length, size()));
        }
        return physical;
    }
}
