package dev.kemu.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Why the dynamic linker refuses a library. The JDK's {@code SymbolLookup.libraryLookup} says
 * only "Cannot open library"; {@code dlerror} after a {@code dlopen} of the same name says
 * which of "no such file", "wrong ELF class", "undefined symbol", ... it was.
 */
final class DynamicLinkerError {
    private static final int RTLD_LAZY = 1;
    private static final MethodHandle DLOPEN;
    private static final MethodHandle DLERROR;
    private static final MethodHandle DLCLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Optional<MemorySegment> open = libc.find("dlopen"), error = libc.find("dlerror"), close = libc.find("dlclose");
        boolean present = open.isPresent() && error.isPresent() && close.isPresent();
        DLOPEN = present ? linker.downcallHandle(open.get(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT)) : null;
        DLERROR = present ? linker.downcallHandle(error.get(), FunctionDescriptor.of(ADDRESS)) : null;
        DLCLOSE = present ? linker.downcallHandle(close.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS)) : null;
    }

    private DynamicLinkerError() {}

    /**
     * The dynamic linker's reason for refusing {@code nameOrPath} (a soname searched on the
     * linker's path, or a file), or {@code fallback} when it can no longer be asked.
     */
    static String reason(String nameOrPath, String fallback) {
        if (DLOPEN == null) {
            return fallback;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) DLOPEN.invokeExact(local.allocateFrom(nameOrPath), RTLD_LAZY);
            if (!handle.equals(MemorySegment.NULL)) {
                int ignored = (int) DLCLOSE.invokeExact(handle);
                return fallback + " (the dynamic linker itself can open it)";
            }
            MemorySegment message = (MemorySegment) DLERROR.invokeExact();
            return message.equals(MemorySegment.NULL) ? fallback : message.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }
}
