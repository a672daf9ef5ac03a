package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Upcall targets, one small class per callback shape. Pointers ({@code uc_engine*},
 * {@code user_data}) arrive as {@code long}s so that no MemorySegment is created per call;
 * every target catches whatever the Java hook throws, because an exception escaping an
 * upcall would crash the JVM, and hands it to the engine, which stops and rethrows it.
 */
final class Upcalls {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    private Upcalls() {}

    static MemorySegment stub(Object target, String method, FunctionDescriptor descriptor, Arena arena) {
        try {
            MethodType type = descriptor.toMethodType();
            MethodHandle handle = LOOKUP.findVirtual(target.getClass(), method, type).bindTo(target);
            return Linker.nativeLinker().upcallStub(handle, descriptor, arena);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("upcall target " + target.getClass().getName() + "." + method, e);
        }
    }

    static final FunctionDescriptor CODE = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG);
    static final FunctionDescriptor INTR = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_LONG);
    static final FunctionDescriptor IN = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG);
    static final FunctionDescriptor OUT = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    static final FunctionDescriptor SYSCALL = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG);
    static final FunctionDescriptor MEM = FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG,
            JAVA_LONG);
    static final FunctionDescriptor MEM_EVENT = FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG, JAVA_INT, JAVA_LONG,
            JAVA_INT, JAVA_LONG, JAVA_LONG);
    static final FunctionDescriptor INVALID = FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG, JAVA_LONG);

    record Code(Unicorn engine, Hooks.Code hook) {
        void call(long uc, long address, int size, long userData) {
            try {
                hook.onCode(engine, address, size);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record Interrupt(Unicorn engine, Hooks.Interrupt hook) {
        void call(long uc, int vector, long userData) {
            try {
                hook.onInterrupt(engine, vector);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record PortIn(Unicorn engine, Hooks.PortIn hook) {
        int call(long uc, int port, int size, long userData) {
            try {
                return hook.onIn(engine, port, size);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return 0;
            }
        }
    }

    record PortOut(Unicorn engine, Hooks.PortOut hook) {
        void call(long uc, int port, int size, int value, long userData) {
            try {
                hook.onOut(engine, port, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record Syscall(Unicorn engine, Hooks.Syscall hook) {
        void call(long uc, long userData) {
            try {
                hook.onSyscall(engine);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record MemAccess(Unicorn engine, Hooks.MemAccess hook) {
        void call(long uc, int type, long address, int size, long value, long userData) {
            try {
                hook.onAccess(engine, type, address, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record MemEvent(Unicorn engine, Hooks.MemEvent hook) {
        boolean call(long uc, int type, long address, int size, long value, long userData) {
            try {
                return hook.onEvent(engine, type, address, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return false;
            }
        }
    }

    record Invalid(Unicorn engine, Hooks.InvalidInstruction hook) {
        boolean call(long uc, long userData) {
            try {
                return hook.onInvalid(engine);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return false;
            }
        }
    }
}
