package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's side of the resident daemon, in a scratch copy whose helpers and daemon client are stand-ins that
 * log their calls: a current daemon gets the command, a stale one is stopped and not used, KEMU_DAEMON=0 bypasses it.
 */
class DaemonLauncherTest {
    private static final Path SCRIPT = Path.of(System.getProperty("kemu.home", "."), "kemu");

    @TempDir
    Path root;

    private void script(String name, String body) throws Exception {
        Path file = Files.createDirectories(root.resolve(name).getParent()).resolve(root.resolve(name).getFileName());
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs {@code ./kemu boot} (its JVM fails: the scratch copy has no classes) and returns the logged calls. */
    private String boot(String... environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(root.resolve("kemu").toString(), "boot", "--ram=8")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().remove("JAVA_HOME");
        builder.environment().remove("KEMU_DAEMON");
        builder.environment().remove("KEMU_DAEMON_SOCKET");
        for (int i = 0; i < environment.length; i += 2) {
            builder.environment().put(environment[i], environment[i + 1]);
        }
        assertTrue(builder.start().waitFor(120, TimeUnit.SECONDS), "the launcher did not finish");
        Path log = root.resolve("calls");
        String calls = Files.exists(log) ? Files.readString(log).trim() : "";
        Files.deleteIfExists(log);
        return calls;
    }

    @Test
    void currentDaemonGetsTheCommand_staleOneIsStopped_KEMU_DAEMON0BypassesIt() throws Exception {
        Files.copy(SCRIPT, root.resolve("kemu"));
        root.resolve("kemu").toFile().setExecutable(true);
        Files.createDirectories(root.resolve("src/main"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        script("scripts/natives.sh", "mkdir -p \"$(dirname \"$0\")/../.native\"");
        script("scripts/find-jdk.sh", "echo '" + System.getProperty("java.home") + "'");
        script("scripts/mvn.sh", "cd \"$(dirname \"$0\")/..\"\n"
                + "mkdir -p target/classes && echo \"$PWD/target/classes\" > target/runtime-classpath.txt");
        script(".native/client/kemu-client", "echo \"client $*\" >> \"" + root.resolve("calls") + "\"");
        assertEquals("", boot(), "no daemon: no client");

        Path socket = root.resolve("target/kemu-daemon.sock");
        Path started = root.resolve("target/kemu-daemon.started");
        try (ServerSocketChannel daemon = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            daemon.bind(UnixDomainSocketAddress.of(socket));
            Files.writeString(started, "");
            assertEquals("client " + socket + " " + root.resolve("kemu") + " boot --ram=8", boot());
            assertEquals("", boot("KEMU_DAEMON", "0"));

            Files.setLastModifiedTime(started, FileTime.from(Instant.now().minusSeconds(3600))); // jar rebuilt since
            assertEquals("client --stop " + socket, boot());
        }
    }
}
