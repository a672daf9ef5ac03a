package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;

/**
 * Wires port output and the hypercall ABI into the engine. With the native trampoline
 * ({@link NativeOutHook}, native/kemu_hooks.c) one C hook takes every {@code out}: the
 * hypercall port's registers move in C around one upcall, other ports come back to the
 * {@link DeviceBus}. It reads as many argument registers as the handler's
 * {@link HypercallHandler#arity} says, from a copy the handler keeps current. Without it a
 * Java {@code out} hook feeds the bus, and the hypercall port is a {@link JavaHypercallDevice} on it.
 */
final class HypercallWiring implements AutoCloseable {
    private final Machine machine;
    private final Unicorn engine;
    private final DeviceBus bus;
    private final NativeOutHook nativeOut;
    private HypercallHandler hypercalls;
    private final long[] hypercallArgs = new long[6];

    HypercallWiring(Machine machine, Unicorn engine, DeviceBus bus) {
        this.machine = machine;
        this.engine = engine;
        this.bus = bus;
        this.nativeOut = NativeOutHook.install(engine, new OutReceiver());
        if (nativeOut == null) {
            engine.hookPortOut((uc, port, size, value) -> bus.out(machine, port, size, value));
        }
    }

    /** True when the native trampoline takes every {@code out} (the hypercall port is not a bus device then). */
    boolean nativeTrampoline() {
        return nativeOut != null;
    }

    /** Serves the hypercall ABI on {@code port} with {@code handler}. */
    void attach(int port, HypercallHandler handler) {
        hypercalls = handler;
        if (nativeOut != null) {
            nativeOut.setHypercallPort(port);
            for (int number = 0; number < NativeOutHook.ARITY_NUMBERS; number++) {
                nativeOut.setArity(number, handler.arity(number));
            }
            // A handler attached before this one may still report changes: only the current one's count.
            handler.onArityChange(number -> {
                if (hypercalls == handler) {
                    nativeOut.setArity(number, handler.arity(number));
                }
            });
        } else {
            bus.claimPorts(port, 1, new JavaHypercallDevice(handler));
        }
    }

    /** The two upcalls of the native out hook; failures stop the run instead of escaping into C. */
    private final class OutReceiver implements NativeOutHook.Receiver {
        @Override
        public long hypercall(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
            try {
                long[] args = hypercallArgs;
                args[0] = a0;
                args[1] = a1;
                args[2] = a2;
                args[3] = a3;
                args[4] = a4;
                args[5] = a5;
                return hypercalls.call(machine, number, args);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return 0;
            }
        }

        @Override
        public void otherPort(int port, int size, int value) {
            try {
                bus.out(machine, port, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    /** After the engine closed: frees the trampoline's shared block. */
    @Override
    public void close() {
        if (nativeOut != null) {
            nativeOut.close();
        }
    }
}
