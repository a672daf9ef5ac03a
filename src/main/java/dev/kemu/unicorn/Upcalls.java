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

    /** The hook's target in the one registry ({@link UpcallTargets}); {@code user_data} is its id. */
    private static Object target(long id) {
        return UpcallTargets.target(id);
    }

    // ---- one native stub per callback shape, shared by every engine and hook --------------------

    /**
     * Generating an upcall stub costs tens of microseconds and its arena's close a JVM-wide
     * handshake, so stubs are made once per JVM: each calls a static method below, which finds
     * the hook's target by its user_data.
     */
    enum Shape {
        CODE("code", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG)),
        INTR("interrupt", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_LONG)),
        IN("portIn", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG)),
        OUT("portOut", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG)),
        SYSCALL("syscall", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG)),
        MEM("memAccess", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG)),
        MEM_EVENT("memEvent", FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG,
                JAVA_LONG)),
        INVALID("invalid", FunctionDescriptor.of(JAVA_BOOLEAN, JAVA_LONG, JAVA_LONG)),
        // int (*)(uc_engine*, void* user_data): uc_cb_insn_cpuid_t, also for RDTSC/RDTSCP; nonzero skips the instruction
        SKIPPABLE("skippable", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG)),
        // uint64_t (*)(uc_engine*, uint64_t offset, unsigned size, void* user_data)
        MMIO_READ("mmioRead", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG)),
        // void (*)(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* user_data)
        MMIO_WRITE("mmioWrite", FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));

        private final String method;
        private final FunctionDescriptor descriptor;
        private volatile MemorySegment stub;

        Shape(String method, FunctionDescriptor descriptor) {
            this.method = method;
            this.descriptor = descriptor;
        }

        MemorySegment stub() {
            MemorySegment made = stub;
            if (made == null) {
                synchronized (this) {
                    made = stub;
                    if (made == null) {
                        made = staticStub(Upcalls.class, method, descriptor);
                        stub = made;
                    }
                }
            }
            return made;
        }
    }

    /** A JVM-lifetime upcall stub for a static method (also used by the machine layer's trampoline). */
    static MemorySegment staticStub(Class<?> owner, String method, FunctionDescriptor descriptor) {
        try {
            MethodHandle handle = MethodHandles.privateLookupIn(owner, LOOKUP).findStatic(owner, method,
                    descriptor.toMethodType());
            return Linker.nativeLinker().upcallStub(handle, descriptor, Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("upcall target " + owner.getName() + "." + method, e);
        }
    }

    static void code(long uc, long address, int size, long id) {
        if (target(id) instanceof Code t) {
            t.call(address, size);
        }
    }

    static void interrupt(long uc, int vector, long id) {
        if (target(id) instanceof Interrupt t) {
            t.call(vector);
        }
    }

    static int portIn(long uc, int port, int size, long id) {
        return target(id) instanceof PortIn t ? t.call(port, size) : -1;
    }

    static void portOut(long uc, int port, int size, int value, long id) {
        if (target(id) instanceof PortOut t) {
            t.call(port, size, value);
        }
    }

    static void syscall(long uc, long id) {
        if (target(id) instanceof Syscall t) {
            t.call();
        }
    }

    static void memAccess(long uc, int type, long address, int size, long value, long id) {
        if (target(id) instanceof MemAccess t) {
            t.call(type, address, size, value);
        }
    }

    static boolean memEvent(long uc, int type, long address, int size, long value, long id) {
        return target(id) instanceof MemEvent t && t.call(type, address, size, value);
    }

    static boolean invalid(long uc, long id) {
        return target(id) instanceof Invalid t && t.call();
    }

    static int skippable(long uc, long id) {
        return target(id) instanceof Skippable t && t.call() ? 1 : 0;
    }

    /** A load from an MMIO region whose target is gone reads as all ones, like an unclaimed bus. */
    static long mmioRead(long uc, long offset, int size, long id) {
        return target(id) instanceof MmioRead t ? t.call(offset, size) : -1L;
    }

    static void mmioWrite(long uc, long offset, int size, long value, long id) {
        if (target(id) instanceof MmioWrite t) {
            t.call(offset, size, value);
        }
    }

    record Code(Unicorn engine, Hooks.Code hook) {
        void call(long address, int size) {
            try {
                hook.onCode(engine, address, size);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record Interrupt(Unicorn engine, Hooks.Interrupt hook) {
        void call(int vector) {
            try {
                hook.onInterrupt(engine, vector);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record PortIn(Unicorn engine, Hooks.PortIn hook) {
        int call(int port, int size) {
            try {
                return hook.onIn(engine, port, size);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return 0;
            }
        }
    }

    record PortOut(Unicorn engine, Hooks.PortOut hook) {
        void call(int port, int size, int value) {
            try {
                hook.onOut(engine, port, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record Syscall(Unicorn engine, Hooks.Syscall hook) {
        void call() {
            try {
                hook.onSyscall(engine);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record MemAccess(Unicorn engine, Hooks.MemAccess hook) {
        void call(int type, long address, int size, long value) {
            try {
                hook.onAccess(engine, type, address, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    record MemEvent(Unicorn engine, Hooks.MemEvent hook) {
        boolean call(int type, long address, int size, long value) {
            try {
                return hook.onEvent(engine, type, address, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return false;
            }
        }
    }

    record Invalid(Unicorn engine, Hooks.InvalidInstruction hook) {
        boolean call() {
            try {
                return hook.onInvalid(engine);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return false;
            }
        }
    }

    record Skippable(Unicorn engine, Hooks.SkippableInstruction hook) {
        boolean call() {
            try {
                return hook.onInstruction(engine);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return false;
            }
        }
    }

    record MmioRead(Unicorn engine, Hooks.MmioRead hook) {
        long call(long offset, int size) {
            try {
                return hook.onRead(engine, offset, size);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return -1L;
            }
        }
    }

    record MmioWrite(Unicorn engine, Hooks.MmioWrite hook) {
        void call(long offset, int size, long value) {
            try {
                hook.onWrite(engine, offset, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }
}
