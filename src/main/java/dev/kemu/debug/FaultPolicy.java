package dev.kemu.debug;

/** What happens to a fault that demand paging did not resolve ({@code --on-fault}). */
public enum FaultPolicy {
    /** Stop the guest and print the fault report. */
    REPORT,
    /** Stop the guest; the report is kept for the API but not printed. */
    STOP,
    /** Run the guest's own handler from its IDT, as hardware would; report and stop if that is impossible. */
    DELIVER
}
