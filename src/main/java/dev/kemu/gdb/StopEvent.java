package dev.kemu.gdb;

/**
 * Why the guest stopped, in the terms of a gdb stop reply: a signal with an optional stop reason
 * (breakpoint, watchpoint), or the end of the program with an exit status.
 */
record StopEvent(int signal, String reason, boolean exited, int exitStatus, String note) {
    static final int SIGINT = 2, SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGSEGV = 11;

    static StopEvent signal(int signal, String note) {
        return new StopEvent(signal, "", false, 0, note);
    }

    static StopEvent withReason(int signal, String reason, String note) {
        return new StopEvent(signal, reason, false, 0, note);
    }

    static StopEvent exit(int status, String note) {
        return new StopEvent(0, "", true, status, note);
    }

    /** A single step that simply completed. */
    boolean plainStep() {
        return !exited && signal == SIGTRAP && reason.isEmpty() && note.isEmpty();
    }

    /** The reply packet for a stop of thread {@code thread}: {@code T05thread:01;swbreak:;} or {@code W03}. */
    String reply(int thread) {
        if (exited) {
            return String.format("W%02x", exitStatus & 0xff);
        }
        return String.format("T%02xthread:%02x;%s", signal, thread, reason);
    }
}
