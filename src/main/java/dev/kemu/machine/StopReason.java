package dev.kemu.machine;

/** Why a run of the guest ended. */
public enum StopReason {
    /** Execution reached the end address the run was given. */
    REACHED_END,
    /** The guest wrote the exit port. */
    EXIT_PORT,
    /** The guest executed {@code hlt}. */
    HALTED,
    /** The instruction budget ran out: a runaway guest. */
    BUDGET_EXHAUSTED,
    /** The wall-clock limit passed. */
    TIMEOUT,
    /**
     * The CPU raised an exception (any vector, #UD included) that the exception handler left
     * unhandled (on hardware with no usable IDT: a triple fault); {@link RunResult#vector()} names it.
     */
    UNHANDLED_EXCEPTION,
    /**
     * An access outside guest RAM and every device ({@link RunResult#unmappedAccess()} says which
     * address, access and PC device), or another error Unicorn reported; {@link RunResult#cause()} holds it.
     */
    EMULATION_ERROR,
    /**
     * The kernel services found their own metadata in guest RAM corrupted (a hypercall or the
     * #PF handler met a broken invariant the guest caused); {@link RunResult#detail()} names
     * the call and the facts.
     */
    KERNEL_PANIC,
    /** Host code asked the machine to stop (a breakpoint, a hook). */
    HOST_REQUEST
}
