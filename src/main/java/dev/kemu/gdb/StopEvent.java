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

    private static String hexByte(int value) {
        String hex = Integer.toHexString(value & 0xff);
        return hex.length() == 1 ? "0" + hex : hex;
    }

    /** A single step that simply completed. */
    boolean plainStep() {
        return !exited && signal == SIGTRAP && reason.isEmpty() && note.isEmpty();
    }

    /** The reply packet for a stop of thread {@code thread}: {@code T05thread:01;swbreak:;} or {@code W03}. */
    String reply(int thread) {
        return reply(thread, "");
    }

    /** {@link #reply(int)} with {@code registers} ({@code n:r;} pairs, {@link ExpeditedRegisters}) after its reason. */
    String reply(int thread, String registers) {
        // Concatenation, not String.format: this runs at every stop, and a Formatter costs tens of
        // microseconds until the JIT has compiled it.
        if (exited) {
            return "W" + hexByte(exitStatus);
        }
        return "T" + hexByte(signal) + "thread:" + (thread < 0x10 ? "0" : "") + Integer.toHexString(thread) + ";" + reason
                + registers;
    }
}
