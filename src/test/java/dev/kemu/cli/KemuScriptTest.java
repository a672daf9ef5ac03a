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
        script("scripts/natives.sh", "exit 0");
        script("scripts/find-jdk.sh", "echo '" + System.getProperty("java.home") + "'");
        script("scripts/mvn.sh", "cd \"$(dirname \"$0\")/..\"\n" + mavenBody);
        root.resolve("kemu").toFile().setExecutable(true);
        Process process = new ProcessBuilder(root.resolve("kemu").toString(), "version").redirectErrorStream(true).start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the launcher did not finish");
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

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
}
