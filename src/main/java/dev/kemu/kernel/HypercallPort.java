package dev.kemu.kernel;

import dev.kemu.machine.HypercallHandler;
import dev.kemu.machine.Machine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;

/**
 * The hypercall services: service AL (the low byte of RAX, which {@code HYPERCALL} sets with
 * {@code mov eax, n}) with arguments in RDI, RSI, RDX, R10, R8, R9; the result lands in RAX.
 * Dispatch is a table indexed by the named numbers of {@link GuestAbi}; an unknown number
 * returns {@link GuestAbi#ENOSYS}. The machine moves the registers
 * ({@link Machine#attachHypercalls}): natively around one upcall when the trampoline is built,
 * else in Java reading only as many registers as the service declares. At TRACE level
 * (`-vv`) every call is logged with its name, arguments and result in hex.
 */
public final class HypercallPort implements HypercallHandler {
    private static final Logger log = LoggerFactory.getLogger(HypercallPort.class);
    private static final int MAX_SERVICES = 64;
    private static final int MAX_ARGUMENTS = 6;

    private final Hypercall[] services = new Hypercall[MAX_SERVICES];
    private final int[] arity = new int[MAX_SERVICES];
    /** Machines that copied the arities ({@link #onArityChange}); told on every registration. */
    private final List<IntConsumer> arityWatchers = new CopyOnWriteArrayList<>();

    public HypercallPort() {
        register(GuestAbi.HC_PROBE, 0, (machine, a) -> GuestAbi.KEMU_MAGIC);
    }

    /** Registers a service that reads all six argument registers. */
    public void register(int number, Hypercall service) {
        register(number, MAX_ARGUMENTS, service);
    }

    /** Registers a service that reads its first {@code arguments} argument registers (the rest read as 0). */
    public void register(int number, int arguments, Hypercall service) {
        if (number < 0 || number >= MAX_SERVICES) {
            throw new IllegalArgumentException("hypercall number out of range: " + number);
        }
        if (arguments < 0 || arguments > MAX_ARGUMENTS) {
            throw new IllegalArgumentException("a hypercall takes 0 to 6 arguments, not " + arguments);
        }
        services[number] = service;
        arity[number] = arguments;
        for (IntConsumer watcher : arityWatchers) {
            watcher.accept(number);
        }
    }

    @Override
    public void onArityChange(IntConsumer changed) {
        arityWatchers.add(changed);
    }

    @Override
    public long call(Machine machine, int number, long[] args) {
        Hypercall service = number >= 0 && number < MAX_SERVICES ? services[number] : null;
        long result = service == null ? GuestAbi.ENOSYS : service.call(machine, args);
        if (log.isTraceEnabled()) {
            log.trace(describe(number, args, arity(number), result));
        }
        return result;
    }

    /** One call as the TRACE line shows it: {@code HC_KMALLOC(0x18, 0x0) = 0xffff800000123000}. */
    static String describe(int number, long[] args, int arguments, long result) {
        StringBuilder line = new StringBuilder(GuestAbi.hypercallName(number)).append('(');
        for (int i = 0; i < arguments; i++) {
            line.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(args[i]));
        }
        return line.append(") = 0x").append(Long.toHexString(result)).toString();
    }

    @Override
    public int arity(int number) {
        return number >= 0 && number < MAX_SERVICES && services[number] != null ? arity[number] : 0;
    }
}
