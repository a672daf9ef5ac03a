package dev.kemu.machine;

import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UpcallTargets;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native {@code out} hook of native/kemu_hooks.c (built by scripts/natives.sh): for the
 * hypercall port it reads the argument registers and writes RAX in C around one upcall, reading
 * only as many registers as the service's entry in the block's arity table says. Its
 * dispatch block, {@code struct kemu_out_dispatch}, lives in native memory owned by this
 * object and is described once, by {@link #DISPATCH}; the library's own table of offsets
 * ({@code kemu_out_dispatch_layout}) must agree with it, or the library is not used.
 *
 * <p>The three upcall stubs are made once per JVM and find their machine by its id in the
 * binding's one registry ({@link UpcallTargets}), because making a stub per machine costs tens
 * of microseconds of every machine's set-up. A Unicorn call that fails inside the C hook comes
 * back through {@code failed} and stops the run with a {@link dev.kemu.unicorn.UnicornException}
 * naming the call and Unicorn's error.
 */
final class NativeOutHook implements AutoCloseable {
    private static final int[] ARGUMENTS = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.R10, X86Reg.R8, X86Reg.R9};
    private static final String HOOK_SYMBOL = "kemu_out_dispatch_hook";
    private static final String ARGUMENT_NAMES = "RDI, RSI, RDX, R10, R8, R9";
    /** Service numbers the block's arity table covers ({@code KEMU_ARITY_NUMBERS}); later ones read all six. */
    static final int ARITY_NUMBERS = 64;

    /** {@code struct kemu_out_dispatch} of native/kemu_hooks.c, field for field. */
    static final StructLayout DISPATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("hypercall_port"),
            JAVA_INT.withName("rax"),
            MemoryLayout.sequenceLayout(ARGUMENTS.length, JAVA_INT).withName("arguments"),
            ADDRESS.withName("read_batch"),
            ADDRESS.withName("write"),
            ADDRESS.withName("hypercall"),
            ADDRESS.withName("other_port"),
            ADDRESS.withName("failed"),
            JAVA_LONG.withName("receiver"),
            JAVA_INT.withName("error"),
            JAVA_INT.withName("failed_call"),
            MemoryLayout.sequenceLayout(ARITY_NUMBERS, JAVA_BYTE).withName("arity")).withName("kemu_out_dispatch");
    private static final VarHandle HYPERCALL_PORT = field("hypercall_port");
    private static final VarHandle RAX = field("rax");
    private static final VarHandle ARGUMENT = DISPATCH.varHandle(groupElement("arguments"), sequenceElement());
    private static final VarHandle READ_BATCH = field("read_batch");
    private static final VarHandle WRITE = field("write");
    private static final VarHandle HYPERCALL = field("hypercall");
    private static final VarHandle OTHER_PORT = field("other_port");
    private static final VarHandle FAILED = field("failed");
    private static final VarHandle RECEIVER = field("receiver");
    private static final VarHandle ERROR = field("error");
    private static final VarHandle ARITY = DISPATCH.varHandle(groupElement("arity"), sequenceElement());

    /** {@code enum kemu_call}: which Unicorn call the C hook saw fail. */
    private static final int CALL_REG_READ_BATCH = 1, CALL_REG_WRITE = 2;


    /** Java receivers of the upcalls. */
    interface Receiver {
        long hypercall(int number, long a0, long a1, long a2, long a3, long a4, long a5);

        void otherPort(int port, int size, int value);
    }

    /** What the registry holds for one machine: failures go to its engine, calls to its receiver. */
    private record Target(Unicorn engine, Receiver receiver) {}

    private static final Object LOCK = new Object();
    private static volatile MemorySegment hypercallStub;
    private static volatile MemorySegment otherPortStub;
    private static volatile MemorySegment failedStub;

    /** Automatic: freed with this object after the engine closed, without a shared arena's costly close. */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment block;
    private final HookHandle hook;

    private NativeOutHook(Unicorn engine, Receiver receiver, MemorySegment function) {
        ensureStubs();
        block = arena.allocate(DISPATCH);
        HYPERCALL_PORT.set(block, 0L, -1);
        RAX.set(block, 0L, X86Reg.RAX);
        for (int i = 0; i < ARGUMENTS.length; i++) {
            ARGUMENT.set(block, 0L, (long) i, ARGUMENTS[i]);
        }
        for (int number = 0; number < ARITY_NUMBERS; number++) {
            setArity(number, ARGUMENTS.length);
        }
        READ_BATCH.set(block, 0L, Unicorn.nativeFunction("uc_reg_read_batch"));
        WRITE.set(block, 0L, Unicorn.nativeFunction("uc_reg_write"));
        HYPERCALL.set(block, 0L, hypercallStub);
        OTHER_PORT.set(block, 0L, otherPortStub);
        FAILED.set(block, 0L, failedStub);
        long id = UpcallTargets.register(new Target(engine, receiver));
        RECEIVER.set(block, 0L, id);
        hook = engine.hookPortOutNative(function, block, id); // owns the registry entry from here on
    }

    private static VarHandle field(String name) {
        return DISPATCH.varHandle(groupElement(name));
    }

    /** Installs the native hook on {@code engine}, or returns null when the library is not built. */
    static NativeOutHook install(Unicorn engine, Receiver receiver) {
        MemorySegment function = function();
        return function == null ? null : new NativeOutHook(engine, receiver, function);
    }

    private static MemorySegment function() {
        // Named apart from the old kemu_out_hook, whose dispatch block was shorter: a kemu without the layout
        // check finds no hook in this library and uses Java.
        return KemuHooksLibrary.function(HOOK_SYMBOL, DISPATCH, "native hypercall trampoline", "using the Java hook")
                .orElse(null);
    }

    void setHypercallPort(int port) {
        HYPERCALL_PORT.set(block, 0L, port);
    }

    /**
     * How many argument registers the C hook reads for service {@code number} (clamped to 0..6); the
     * others reach Java as 0. Numbers past the table always read all six.
     */
    void setArity(int number, int count) {
        if (number >= 0 && number < ARITY_NUMBERS) {
            ARITY.set(block, 0L, (long) number, (byte) Math.max(0, Math.min(ARGUMENTS.length, count)));
        }
    }

    /** The Unicorn error the C hook recorded first (0 = none); for tests of the error path. */
    int recordedError() {
        return (int) ERROR.get(block, 0L);
    }

    /** The dispatch block itself, for tests that substitute a failing Unicorn function. */
    MemorySegment block() {
        return block;
    }

    private static void ensureStubs() {
        if (hypercallStub == null) {
            synchronized (LOCK) {
                if (hypercallStub == null) {
                    otherPortStub = Unicorn.staticUpcall(NativeOutHook.class, "otherPort",
                            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT));
                    failedStub = Unicorn.staticUpcall(NativeOutHook.class, "failed",
                            FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT));
                    hypercallStub = Unicorn.staticUpcall(NativeOutHook.class, "hypercall", FunctionDescriptor.of(
                            JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
                }
            }
        }
    }

    /** Upcall from C; the receivers catch everything, a missing receiver answers 0. */
    private static long hypercall(long id, int number, long a0, long a1, long a2, long a3, long a4, long a5) {
        return UpcallTargets.target(id) instanceof Target t ? t.receiver.hypercall(number, a0, a1, a2, a3, a4, a5) : 0;
    }

    private static void otherPort(long id, int port, int size, int value) {
        if (UpcallTargets.target(id) instanceof Target t) {
            t.receiver.otherPort(port, size, value);
        }
    }

    /** Upcall from C: a Unicorn call failed in the hook; stop the run and rethrow from uc_emu_start. */
    private static void failed(long id, int call, int ucErr) {
        if (UpcallTargets.target(id) instanceof Target t) {
            try {
                t.engine.hookFailed(Unicorn.nativeCallFailed(ucErr, callText(call) + " in the native hypercall hook"
                        + " (native/kemu_hooks.c)"));
            } catch (Throwable e) {
                t.engine.hookFailed(e);
            }
        }
    }

    private static String callText(int call) {
        return switch (call) {
            case CALL_REG_READ_BATCH -> "uc_reg_read_batch(" + ARGUMENT_NAMES + ")";
            case CALL_REG_WRITE -> "uc_reg_write(RAX)";
            default -> "Unicorn call " + call;
        };
    }

    /** Removes the hook if the engine is still open; after uc_close the engine already released it. */
    @Override
    public void close() {
        hook.remove();
    }
}
