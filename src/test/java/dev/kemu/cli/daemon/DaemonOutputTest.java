package dev.kemu.cli.daemon;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boots through the resident daemon print the same bytes and end with the same status as in a JVM of their own. */
class DaemonOutputTest {
    @TempDir
    static Path directory;
    private static DaemonProcess daemon;

    @BeforeAll
    static void start() throws Exception {
        daemon = new DaemonProcess(directory);
        DaemonProcess.kernel(directory, "ud", "ud2");
        DaemonProcess.kernel(directory, "spin", "1: jmp 1b");
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
            assertTrue(daemon.endsWithin(10), "the daemon did not stop");
        }
    }

    private static void assertSameAsPlain(Path cwd, String... args) throws Exception {
        DaemonProcess.Result plain = DaemonProcess.plain(cwd, args).comparable();
        DaemonProcess.Result served = daemon.throughDaemon(cwd, args).comparable();
        assertEquals(plain, served);
    }

    @Test
    void kemusOwnKernel_guestExitStatusAndOutput() throws Exception {
        assertSameAsPlain(DaemonProcess.HOME, "boot");
        DaemonProcess.Result status = daemon.control("status");
        assertTrue(status.stdout().startsWith("kemu daemon: pid " + daemon.pid() + ", "), status.toString());
    }

    @Test
    void faultingKernel_faultReportAndBootFailedStatus() throws Exception {
        DaemonProcess.Result served = daemon.throughDaemon(directory, "boot", "--kernel=" + directory.resolve("ud.elf"));
        assertEquals(4, served.status(), served.toString());
        assertSameAsPlain(directory, "boot", "--kernel=" + directory.resolve("ud.elf"));
    }

    @Test
    void relativeKernelPath_isTheClientsDirectorysFile() throws Exception {
        DaemonProcess.Result served = daemon.throughDaemon(directory, "boot", "--kernel=spin.elf", "--budget=200000");
        assertTrue(served.stdout().startsWith("kemu boot: spin.elf "), served.toString());
        assertSameAsPlain(directory, "boot", "--kernel=spin.elf", "--budget=200000");
        assertSameAsPlain(directory, "boot", "--kernel=missing.elf");
    }

    @Test
    void badOption_usageMessageAndStatus() throws Exception {
        assertSameAsPlain(directory, "boot", "--bogus");
        assertSameAsPlain(directory, "boot", "--ram=1");
    }

    @Test
    void verbose_runsInAJvmOfItsOwnAndSaysSoInOneLine() throws Exception {
        DaemonProcess.Result plain = DaemonProcess.plain(directory, "boot", "-v", "--kernel=ud.elf").comparable();
        DaemonProcess.Result served = daemon.throughDaemon(directory, "boot", "-v", "--kernel=ud.elf").comparable();
        String note = "kemu: not served by the resident daemon (pid " + daemon.pid() + "): -v: log levels are fixed "
                + "per JVM; running a JVM of its own\n";
        assertEquals(plain.status(), served.status());
        assertEquals(plain.stdout(), served.stdout());
        assertTrue(served.stderr().startsWith(note), served.stderr());
        assertEquals(plain.stderr().lines().count(), served.stderr().lines().count() - 1, served.stderr());
    }

    @Test
    void otherCommands_runInAJvmOfTheirOwnSilently() throws Exception {
        assertSameAsPlain(directory, "whatis", "0x0e");
    }
}
