package dev.kemu.machine;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.nativelib.NativeLibraryLocator;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native {@code out} hook of native/kemu_hooks.c (built by scripts/natives.sh): for the
 * hypercall port it reads the argument registers and writes RAX in C around one upcall. Its
 * dispatch block, in native memory owned by the machine:
 *
 * <pre>
 *   +0  u32 hypercall port (0xffffffff = none yet)   +4  i32 register id of RAX
 *   +8  i32[6] register ids of RDI, RSI, RDX, R10, R8, R9
 *   +32 uc_reg_read_batch   +40 uc_reg_write   +48 Java hypercall upcall   +56 Java out upcall
 * </pre>
 */
final class NativeOutHook implements AutoCloseable {
    private static final NativeLibraryLocator LOCATOR = new NativeLibraryLocator("libkemu_hooks", "KEMU_HOOKS_LIB",
            ".native/hooks", List.of("libkemu_hooks.so"), "Run `make natives` (needs gcc) to build native/kemu_hooks.c.");
    private static final int[] ARGUMENTS = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.R10, X86Reg.R8, X86Reg.R9};
    private static volatile MemorySegment hookFunction;
    private static volatile boolean unavailable;

    /** Java receivers of the two upcalls. */
    interface Receiver {
        long hypercall(int number, long a0, long a1, long a2, long a3, long a4, long a5);

        void otherPort(int port, int size, int value);
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment block;

    private NativeOutHook(Unicorn engine, Receiver receiver, MemorySegment function) {
        block = arena.allocate(64, 8);
        block.set(JAVA_INT, 0, -1);
        block.set(JAVA_INT, 4, X86Reg.RAX);
        for (int i = 0; i < ARGUMENTS.length; i++) {
            block.set(JAVA_INT, 8 + 4L * i, ARGUMENTS[i]);
        }
        block.set(ADDRESS, 32, Unicorn.nativeFunction("uc_reg_read_batch"));
        block.set(ADDRESS, 40, Unicorn.nativeFunction("uc_reg_write"));
        block.set(ADDRESS, 48, upcall(receiver, "hypercall", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG)));
        block.set(ADDRESS, 56, upcall(receiver, "otherPort", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, JAVA_INT)));
        engine.hookPortOutNative(function, block);
    }

    /** Installs the native hook on {@code engine}, or returns null when the library is not built. */
    static NativeOutHook install(Unicorn engine, Receiver receiver) {
        MemorySegment function = function();
        return function == null ? null : new NativeOutHook(engine, receiver, function);
    }

    private static MemorySegment function() {
        if (unavailable) {
            return null;
        }
        MemorySegment function = hookFunction;
        if (function == null) {
            synchronized (NativeOutHook.class) {
                try {
                    SymbolLookup library = LOCATOR.load(Arena.global()).lookup();
                    function = library.find("kemu_out_hook").orElseThrow(
                            () -> new NativeLibraryException("libkemu_hooks lacks kemu_out_hook"));
                    hookFunction = function;
                } catch (NativeLibraryException e) {
                    unavailable = true;
                    org.slf4j.LoggerFactory.getLogger(NativeOutHook.class).info(
                            "native hypercall trampoline unavailable, using the Java hook: {}", e.getMessage());
                    return null;
                }
            }
        }
        return function;
    }

    void setHypercallPort(int port) {
        block.set(JAVA_INT, 0, port);
    }

    private MemorySegment upcall(Receiver receiver, String method, FunctionDescriptor descriptor) {
        try {
            MethodType type = descriptor.toMethodType();
            MethodHandle handle = MethodHandles.lookup().findVirtual(Receiver.class, method, type).bindTo(receiver);
            return Linker.nativeLinker().upcallStub(handle, descriptor, arena);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("upcall " + method, e);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
