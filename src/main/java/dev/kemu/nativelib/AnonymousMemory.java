package dev.kemu.nativelib;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Private anonymous memory from {@code mmap}. Unlike {@code Arena.allocate}, which zeroes
 * (and so touches) every byte, the kernel hands out zero pages lazily, so a 1 GiB guest
 * costs only the pages it touches.
 */
public final class AnonymousMemory implements AutoCloseable {
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    private static final int MADV_DONTNEED = 4;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MMAP = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MUNMAP = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        MADVISE = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    private final MemorySegment segment;
    private boolean closed;

    public AnonymousMemory(long size) {
        MemorySegment address;
        try {
            address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap of 0x" + Long.toHexString(size) + " bytes failed", t);
        }
        if (address.address() == -1L) {
            throw new OutOfMemoryError("mmap could not reserve 0x" + Long.toHexString(size) + " bytes for guest RAM");
        }
        this.segment = address.reinterpret(size);
    }

    public MemorySegment segment() {
        return segment;
    }

    /** Gives the pages of {@code [offset, offset+length)} back to the kernel; they read as zero again. */
    public void discard(long offset, long length) {
        try {
            int ignored = (int) MADVISE.invokeExact(segment.asSlice(offset, length), length, MADV_DONTNEED);
        } catch (Throwable t) {
            throw new IllegalStateException("madvise failed", t);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                int ignored = (int) MUNMAP.invokeExact(segment, segment.byteSize());
            } catch (Throwable t) {
                throw new IllegalStateException("munmap failed", t);
            }
        }
    }
}
