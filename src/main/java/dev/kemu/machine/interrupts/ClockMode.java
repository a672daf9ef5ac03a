package dev.kemu.machine.interrupts;

/** Where a machine's device time (PIT, local APIC timer, TSC) comes from. */
public enum ClockMode {
    /**
     * One retired guest instruction is one nanosecond: the same timer interrupts after the same instructions
     * on every run and every host (the default). Counting costs a native hook per translated block while a
     * timer is armed.
     */
    INSTRUCTIONS,
    /**
     * The host's monotonic clock, as QEMU without {@code -icount}: the guest runs uncounted, a host timer stops
     * it at each device deadline, and a {@code hlt} waits in real time. Interrupts land wherever host time says,
     * so two runs differ; one CPU only.
     */
    HOST;

    /** What to write instead of an unknown name. */
    public static final String CHOICES = "use instructions (deterministic, the default) or host (the host's time, as QEMU "
            + "without -icount)";

    /** {@code instructions} or {@code host}, any case. */
    public static ClockMode parse(String name) {
        for (ClockMode mode : values()) {
            if (mode.name().equalsIgnoreCase(name.trim())) {
                return mode;
            }
        }
        throw new IllegalArgumentException("clock '" + name + "': " + CHOICES);
    }
}
