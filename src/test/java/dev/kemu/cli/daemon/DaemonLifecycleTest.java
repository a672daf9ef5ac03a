package dev.kemu.cli.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A daemon whose jar changed refuses and stops; Ctrl-C in a client ends the run and leaves no daemon behind. */
class DaemonLifecycleTest {
    @TempDir
    Path directory;

    @Test
    void staleJar_requestRunsInAJvmOfItsOwnAndTheDaemonStops() throws Exception {
        try (DaemonProcess daemon = new DaemonProcess(directory)) {
            DaemonProcess.kernel(directory, "ud", "ud2");
            Files.setLastModifiedTime(daemon.jar, FileTime.from(Instant.now().plusSeconds(5)));
            DaemonProcess.Result served = daemon.throughDaemon(directory, "boot", "--kernel=ud.elf").comparable();
            assertEquals(DaemonProcess.plain(directory, "boot", "--kernel=ud.elf").comparable(), served);
            assertTrue(daemon.endsWithin(10), "a stale daemon kept running");
            assertFalse(Files.exists(daemon.socket), "its socket was left behind");
            assertEquals(3, daemon.control("status").status(), "status of a stopped daemon");
        }
    }

    @Test
    void interruptedClient_diesOfSigintAndTheDaemonEnds() throws Exception {
        try (DaemonProcess daemon = new DaemonProcess(directory)) {
            DaemonProcess.kernel(directory, "spin", "1: jmp 1b");
            Path stdout = directory.resolve("spin.out");
            Process client = daemon.startThroughDaemon(directory, stdout, "boot", "--kernel=spin.elf", "--timeout=0",
                    "--budget=0");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (Files.size(stdout) == 0) { // the boot's first line: the guest is running
                assertTrue(client.isAlive() && System.nanoTime() < deadline, "the boot did not start");
                Thread.sleep(20);
            }
            assertEquals(0, new ProcessBuilder("kill", "-INT", "" + client.pid()).start().waitFor());
            assertTrue(client.waitFor(10, TimeUnit.SECONDS), "the client ignored SIGINT");
            assertEquals(128 + 2, client.exitValue(), "a client killed by SIGINT, as a plain JVM would be");
            assertTrue(daemon.endsWithin(10), "the daemon kept running the interrupted boot");
            assertFalse(Files.exists(daemon.socket), "its socket was left behind");
        }
    }
}
