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
    private static final MethodHandle MINCORE;
    private static final long PAGE = 4096;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MMAP = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MUNMAP = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        MADVISE = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        MINCORE = linker.downcallHandle(libc.find("mincore").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
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

    /** Whether the host can swap right now (SwapTotal in /proc/meminfo); true when it cannot tell. */
    static boolean hostHasSwap() {
        try (java.io.BufferedReader meminfo = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/meminfo"))) {
            for (String line = meminfo.readLine(); line != null; line = meminfo.readLine()) {
                if (line.startsWith("SwapTotal:")) {
                    return !line.substring("SwapTotal:".length()).trim().startsWith("0 ");
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return true;
        }
        return true;
    }

    /**
     * The 4 KiB pages that have ever been touched ({@code mincore}); the others read as zero
     * without being backed, so whoever scans the memory can skip them without faulting them in.
     */
    public java.util.BitSet residentPages() {
        long pages = (segment.byteSize() + PAGE - 1) / PAGE;
        if (hostHasSwap()) {
            // mincore reports residency, not use: a page swapped out holds data yet reads as absent.
            java.util.BitSet all = new java.util.BitSet((int) pages);
            all.set(0, (int) pages);
            return all;
        }
        try (java.lang.foreign.Arena local = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment vector = local.allocate(pages);
            int result = (int) MINCORE.invokeExact(segment, segment.byteSize(), vector);
            if (result != 0) {
                throw new IllegalStateException("mincore of 0x" + Long.toHexString(segment.byteSize()) + " bytes failed");
            }
            java.util.BitSet resident = new java.util.BitSet((int) pages);
            for (int page = 0; page < pages; page++) {
                if ((vector.get(java.lang.foreign.ValueLayout.JAVA_BYTE, page) & 1) != 0) {
                    resident.set(page);
                }
            }
            return resident;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mincore failed", t);
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
