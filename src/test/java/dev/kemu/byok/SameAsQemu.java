package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The comparison every test kernel passes: kemu shows the user what QEMU shows. */
final class SameAsQemu {
    private SameAsQemu() {}

    /** The bytes on COM1 and on the debug console, and the exit status. */
    static void assertSameOutputAndStatus(GuestOutput qemu, GuestOutput kemu) {
        assertSameOutput(qemu, kemu);
        assertEquals(qemu.exitStatus(), kemu.exitStatus(), () -> "exit status differs\n" + both(qemu, kemu));
    }

    /** The bytes on COM1 and on the debug console (for a kernel whose end is not comparable: a triple fault). */
    static void assertSameOutput(GuestOutput qemu, GuestOutput kemu) {
        assertEquals(qemu.serial(), kemu.serial(), () -> "serial (COM1) output differs\n" + both(qemu, kemu));
        assertEquals(qemu.debugConsole(), kemu.debugConsole(), () -> "debug console output differs\n" + both(qemu, kemu));
    }

    private static String both(GuestOutput qemu, GuestOutput kemu) {
        return "=== QEMU ===\n" + qemu.describe() + "\n=== kemu ===\n" + kemu.describe();
    }

    /** What a kernel that prints every line on both consoles writes on COM1: the same, with CR LF line ends. */
    static String onSerial(String debugConsoleText) {
        return debugConsoleText.replace("\n", "\r\n");
    }
}
