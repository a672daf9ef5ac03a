package dev.kemu.debug;

/** What happens to a fault that demand paging did not resolve ({@code --on-fault}). */
public enum FaultPolicy {
    /**
     * The default: run the guest's own handler when its IDT has a present gate for the vector
     * (as {@link #DELIVER}), otherwise stop and print the report (as {@link #REPORT}).
     */
    AUTO,
    /** Stop the guest and print the fault report. */
    REPORT,
    /** Stop the guest; the report is kept for the API but not printed. */
    STOP,
    /** Run the guest's own handler from its IDT, as hardware would (a missing gate escalates to #DF, then a triple fault). */
    DELIVER
}
