package dev.kemu.testutil;

/**
 * What one boot of a kernel showed its user: the process exit status, the bytes the guest wrote to
 * COM1 and to the debug console (port 0xE9), each as ISO-8859-1 text so every byte survives, and
 * the tool's own output (QEMU's messages, or kemu's stage lines, summary and fault reports).
 */
public record GuestOutput(int exitStatus, String serial, String debugConsole, String toolOutput) {

    /** Everything, for assertion messages. */
    public String describe() {
        return "exit status " + exitStatus + "\n--- serial ---\n" + serial + "\n--- debug console ---\n" + debugConsole
                + "\n--- tool output ---\n" + toolOutput;
    }
}
