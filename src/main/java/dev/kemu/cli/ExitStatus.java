package dev.kemu.cli;

import dev.kemu.boot.BootReport;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.devices.ExitPort;

/**
 * The exit statuses of {@code ./kemu}. A guest that stops through the exit port gives what QEMU's
 * {@code isa-debug-exit} device gives ({@code exit((value << 1) | 1)} in QEMU's hw/misc/debugexit.c), so
 * scripts written for QEMU work unchanged; those statuses are always odd. kemu's own statuses are even, so
 * they can never be mistaken for a guest's. The README's "Exit status" table lists the same values.
 */
final class ExitStatus {
    /** The kernel reached kmain and halted without writing the exit port. */
    static final int SUCCESS = 0;
    /**
     * Something the user must fix before a boot can start: an unknown option or bad value (picocli's own status
     * for invalid input), an unusable kernel image, a missing tool or native library. The message says what.
     */
    static final int USAGE = 2;
    /** The kernel did not reach kmain, or did not stop cleanly after it (fault, budget, time limit). */
    static final int BOOT_FAILED = 4;
    /** A defect in kemu itself (EX_SOFTWARE of sysexits.h); the stack trace is printed. */
    static final int INTERNAL = 70;

    private ExitStatus() {}

    /** QEMU's isa-debug-exit status for {@code value}; the operating system keeps its low 8 bits. */
    static int guestExit(int value) {
        return ((value << 1) | 1) & 0xff;
    }

    /** The status of a boot, with the sentence that explains it. */
    static Explained of(BootReport report) {
        if (report.failure().isPresent()) {
            return new Explained(BOOT_FAILED, "boot failed: " + report.failure().get());
        }
        RunResult run = report.run();
        if (run.reason() == StopReason.EXIT_PORT) {
            int status = guestExit(run.exitCode());
            return new Explained(status, String.format("exit status %d: the guest wrote 0x%x to the exit port 0x%X "
                    + "(%d << 1 | 1%s)", status, run.exitCode(), ExitPort.PORT, Integer.toUnsignedLong(run.exitCode()),
                    status == ((run.exitCode() << 1) | 1) ? "" : ", low 8 bits"));
        }
        return new Explained(SUCCESS, "exit status 0: the kernel reached kmain and halted");
    }

    /** An exit status and the line that tells the user what it means. */
    record Explained(int status, String message) {}
}
