package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code kemu} launcher in a scratch copy of the repository whose helper scripts are stand-ins: a Maven that
 * prints the colour resets Maven 3.8 prints under {@code -q}. None of them may reach the user.
 */
class KemuScriptTest {
    private static final Path SCRIPT = Path.of(System.getProperty("kemu.home", "."), "kemu");

    @TempDir
    Path root;

    private record Result(int exit, String output) {}

    private Result runWithMaven(String mavenBody) throws Exception {
        Files.copy(SCRIPT, root.resolve("kemu"));
        Files.createDirectories(root.resolve("src/main"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        // The stand-ins log each call, so that a test can tell which checks a start repeated.
        script("scripts/natives.sh", "echo natives >> \"$(dirname \"$0\")/../calls\"; mkdir -p \"$(dirname \"$0\")/../.native\"");
        script("scripts/find-jdk.sh", "echo find-jdk >> \"$(dirname \"$0\")/../calls\"; echo '"
                + System.getProperty("java.home") + "'");
        script("scripts/mvn.sh", "cd \"$(dirname \"$0\")/..\"\n" + mavenBody);
        root.resolve("kemu").toFile().setExecutable(true);
        return run();
    }

    private Result run(String... environment) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(root.resolve("kemu").toString(), "version").redirectErrorStream(true);
        builder.environment().remove("JAVA_HOME");
        for (int i = 0; i < environment.length; i += 2) {
            builder.environment().put(environment[i], environment[i + 1]);
        }
        Process process = builder.start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the launcher did not finish");
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** The stand-in scripts called since the last look. */
    private String calls() throws Exception {
        Path log = root.resolve("calls");
        String calls = Files.exists(log) ? Files.readString(log).trim().replace('\n', ' ') : "";
        Files.deleteIfExists(log);
        return calls;
    }

    private static final String BUILD = "mkdir -p target/classes && echo \"$PWD/target/classes\" > target/runtime-classpath.txt";

    private void script(String name, String body) throws Exception {
        Path file = Files.createDirectories(root.resolve(name).getParent()).resolve(root.resolve(name).getFileName());
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void buildThatPrintsColourResets_leavesNoEscapeCodeInTheOutput() throws Exception {
        Result result = runWithMaven("""
                printf '\\033[0m\\033[0m\\033[0m'
                mkdir -p target/classes && echo "$PWD/target/classes" > target/runtime-classpath.txt
                """);
        assertTrue(Files.exists(root.resolve("target/classes/.kemu-built")), result.output());
        assertFalse(result.output().contains("\u001b"), result.output());
    }

    @Test
    void failingBuild_showsItsMessageWithoutEscapesAndExitsWithTheInternalErrorStatus() throws Exception {
        Result result = runWithMaven("""
                printf '\\033[1;31m[ERROR] cannot find symbol\\033[m\\n'
                exit 1
                """);
        assertEquals(ExitStatus.INTERNAL, result.exit(), result.output());
        assertTrue(result.output().contains("[ERROR] cannot find symbol"), result.output());
        assertFalse(result.output().contains("\u001b"), result.output());
    }

    @Test
    void secondStart_repeatsNeitherTheNativeLibraryCheckNorTheJdkSearch() throws Exception {
        runWithMaven(BUILD);
        assertTrue(calls().contains("natives"));
        run();
        assertEquals("", calls(), "an unchanged tree needs neither script");
    }

    @Test
    void newerNativesScript_repeatsTheNativeLibraryCheck() throws Exception {
        runWithMaven(BUILD);
        calls();
        touch("scripts/natives.sh", 60_000);
        run();
        assertEquals("natives", calls());
    }

    @Test
    void anotherJavaHome_repeatsTheJdkSearch_andOneItPassesOverKeepsItsNotice() throws Exception {
        runWithMaven(BUILD);
        calls();
        run("JAVA_HOME", "/no/such/jdk");
        assertEquals("find-jdk", calls());
        run("JAVA_HOME", "/no/such/jdk");
        assertEquals("find-jdk", calls(), "find-jdk.sh prints why it skips such a JAVA_HOME at every start");
        run("JAVA_HOME", System.getProperty("java.home"));
        assertEquals("find-jdk", calls());
        run("JAVA_HOME", System.getProperty("java.home"));
        assertEquals("", calls());
    }

    private void touch(String file, long millisFromNow) throws Exception {
        Files.setLastModifiedTime(root.resolve(file),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + millisFromNow));
    }
}
