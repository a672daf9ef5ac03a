package dev.kemu.gdb;

import dev.kemu.machine.smp.CpuSet;
import dev.kemu.machine.smp.CpuState;

/**
 * gdb's threads are the machine's CPUs: thread id N is CPU N-1 (gdb reserves 0 for "any" and -1 for
 * "all"). Parses thread ids of {@code H}, {@code T} and {@code vCont} and names each CPU for
 * {@code info threads}.
 */
final class CpuThreads {
    /** No particular thread: "any" (0) or "all" (-1) in a packet. */
    static final int ANY = -1;

    private final CpuSet cpus;

    CpuThreads(CpuSet cpus) {
        this.cpus = cpus;
    }

    int count() {
        return cpus.count();
    }

    static int threadOf(int cpu) {
        return cpu + 1;
    }

    /**
     * The CPU (0-based) of thread id {@code text} (hex, optionally {@code pPID.TID}), or {@link #ANY} for
     * 0 and -1; a thread that does not exist is a malformed packet.
     */
    int cpuOf(String text) {
        String id = text.startsWith("p") && text.contains(".") ? text.substring(text.indexOf('.') + 1) : text;
        if (id.equals("-1") || id.equals("0")) {
            return ANY;
        }
        long thread = RspPackets.number(id);
        if (thread < 1 || thread > cpus.count()) {
            throw new MalformedPacketException("thread " + id + ": this machine has threads 1.." + cpus.count()
                    + " (CPU 0.." + (cpus.count() - 1) + ")");
        }
        return (int) thread - 1;
    }

    /** The list {@code qfThreadInfo} answers: every CPU at once. */
    String list() {
        StringBuilder out = new StringBuilder("m");
        for (int cpu = 0; cpu < cpus.count(); cpu++) {
            out.append(cpu == 0 ? "" : ",").append(Integer.toHexString(threadOf(cpu)));
        }
        return out.toString();
    }

    /** What {@code info threads} shows beside a thread: "CPU 1 (AP), waiting for STARTUP". */
    String extraInfo(int cpu) {
        return "CPU " + cpu + (cpu == 0 ? " (BSP)" : " (AP)") + ", " + describe(cpus.state(cpu));
    }

    static String describe(CpuState state) {
        return switch (state) {
            case RUNNING -> "runnable";
            case HALTED -> "halted (hlt)";
            case WAIT_FOR_STARTUP -> "waiting for STARTUP";
        };
    }
}
