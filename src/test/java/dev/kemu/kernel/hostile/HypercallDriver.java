package dev.kemu.kernel.hostile;

import dev.kemu.kernel.HypercallPort;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.testing.TestMachine;

import java.util.ArrayList;
import java.util.List;

/**
 * Calls the hypercall services of a booted kernel straight from Java, as the guest's
 * {@code out} would (same port, same argument array), so that a hostile sequence runs
 * without assembling a snippet per sequence. {@link #reset} returns the machine to the
 * snapshot taken after boot.
 */
final class HypercallDriver implements AutoCloseable {
    private final TestMachine machine = new TestMachine();
    private final HypercallPort port = machine.boot().hypercalls();
    private final List<String> log = new ArrayList<>();

    HypercallDriver reset() {
        machine.reset();
        log.clear();
        return this;
    }

    /** Calls service {@code number} with up to six arguments (the rest are 0) and returns RAX. */
    long call(int number, long... arguments) {
        long[] args = new long[6];
        System.arraycopy(arguments, 0, args, 0, arguments.length);
        StringBuilder line = new StringBuilder(dev.kemu.kernel.GuestAbi.hypercallName(number)).append('(');
        for (int i = 0; i < arguments.length; i++) {
            line.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(arguments[i]));
        }
        line.append(") = ");
        log.add(line + "(threw)"); // the transcript names the call even if it throws
        long result = port.call(machine.machine(), number, args);
        log.set(log.size() - 1, line + "0x" + Long.toHexString(result));
        return result;
    }

    KernelMemory memory() {
        return machine.memory();
    }

    TestMachine machine() {
        return machine;
    }

    /** The calls made since the last reset, one per line, for failure messages. */
    String transcript() {
        return String.join("\n", log);
    }

    @Override
    public void close() {
        machine.close();
    }
}
