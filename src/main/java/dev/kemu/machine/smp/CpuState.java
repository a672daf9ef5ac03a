package dev.kemu.machine.smp;

/** Where one CPU of a {@link CpuSet} is in its life. */
public enum CpuState {
    /** After INIT (and at power-on for an AP): real mode, halted, only a STARTUP IPI starts it. */
    WAIT_FOR_STARTUP,
    /** Scheduled: runs its quantum in turn. */
    RUNNING,
    /** Executed {@code hlt}: not scheduled until something wakes it (an interrupt, once interrupts exist; INIT). */
    HALTED
}
