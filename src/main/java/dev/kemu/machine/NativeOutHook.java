package dev.kemu.machine;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.nativelib.NativeLibraryLocator;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
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
 *   +64 u64 receiver id (which machine's {@link Receiver} the shared upcalls dispatch to)
 * </pre>
 *
 * The two upcall stubs are made once per JVM and find their receiver by id, because making a
 * stub per machine costs tens of microseconds of every machine's set-up.
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

    private static final Object LOCK = new Object();
    private static volatile Receiver[] receivers = new Receiver[16];
    private static final java.util.ArrayDeque<Integer> FREE = new java.util.ArrayDeque<>();
    private static int next = 1;
    private static volatile MemorySegment hypercallStub;
    private static volatile MemorySegment otherPortStub;

    /** Automatic: freed with this object after the engine closed, without a shared arena's costly close. */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment block;
    private final int receiverId;

    private NativeOutHook(Unicorn engine, Receiver receiver, MemorySegment function) {
        receiverId = register(receiver);
        block = arena.allocate(72, 8);
        block.set(JAVA_INT, 0, -1);
        block.set(JAVA_INT, 4, X86Reg.RAX);
        for (int i = 0; i < ARGUMENTS.length; i++) {
            block.set(JAVA_INT, 8 + 4L * i, ARGUMENTS[i]);
        }
        block.set(ADDRESS, 32, Unicorn.nativeFunction("uc_reg_read_batch"));
        block.set(ADDRESS, 40, Unicorn.nativeFunction("uc_reg_write"));
        ensureStubs();
        block.set(ADDRESS, 48, hypercallStub);
        block.set(ADDRESS, 56, otherPortStub);
        block.set(JAVA_LONG, 64, receiverId);
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

    private static void ensureStubs() {
        if (hypercallStub == null) {
            synchronized (LOCK) {
                if (hypercallStub == null) {
                    otherPortStub = Unicorn.staticUpcall(NativeOutHook.class, "otherPort",
                            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
                    hypercallStub = Unicorn.staticUpcall(NativeOutHook.class, "hypercall", FunctionDescriptor.of(
                            JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
                }
            }
        }
    }

    private static int register(Receiver receiver) {
        synchronized (LOCK) {
            int id = FREE.isEmpty() ? next++ : FREE.pop();
            Receiver[] updated = java.util.Arrays.copyOf(receivers, Math.max(receivers.length, Integer.highestOneBit(id) * 2));
            updated[id] = receiver;
            receivers = updated;
            return id;
        }
    }

    /** Upcall from C; the receivers catch everything, a missing receiver answers 0. */
    private static long hypercall(long id, int number, long a0, long a1, long a2, long a3, long a4, long a5) {
        Receiver[] current = receivers;
        Receiver receiver = id > 0 && id < current.length ? current[(int) id] : null;
        return receiver == null ? 0 : receiver.hypercall(number, a0, a1, a2, a3, a4, a5);
    }

    private static void otherPort(long id, int port, int size, int value) {
        Receiver[] current = receivers;
        Receiver receiver = id > 0 && id < current.length ? current[(int) id] : null;
        if (receiver != null) {
            receiver.otherPort(port, size, value);
        }
    }

    /** After the engine closed: forgets the receiver (the block goes with this object). */
    @Override
    public void close() {
        synchronized (LOCK) {
            Receiver[] updated = receivers.clone();
            updated[receiverId] = null;
            receivers = updated;
            FREE.push(receiverId);
        }
    }
}
