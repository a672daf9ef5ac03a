package dev.kemu.machine;

/** What an {@link Machine.ExceptionHandler} decided about a {@link CpuException}. */
public enum ExceptionOutcome {
    /** Resolved (a page mapped) or redirected (RIP now at the guest's handler): the guest continues. */
    RESUME,
    /** Left unhandled: the run stops with {@link StopReason#UNHANDLED_EXCEPTION}, as a triple fault would. */
    STOP
}
