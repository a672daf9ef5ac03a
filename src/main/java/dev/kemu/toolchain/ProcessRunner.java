package dev.kemu.toolchain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a tool and returns its exit status and combined output. The output goes to a temporary
 * file rather than a pipe: reading a pipe blocks until every process holding it exits, so a
 * hung tool (or a child it forked) would hold the caller up however short the timeout.
 */
final class ProcessRunner {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    record Result(int exitCode, String output) {}

    private ProcessRunner() {}

    static Result run(List<String> command, Path workingDir) {
        return run(command, workingDir, DEFAULT_TIMEOUT);
    }

    /** Runs {@code command}; past {@code timeout} the tool and everything it started are killed. */
    static Result run(List<String> command, Path workingDir, Duration timeout) {
        String commandLine = String.join(" ", command);
        Path output = createOutputFile(commandLine);
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            if (workingDir != null) {
                builder.directory(workingDir.toFile());
            }
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree(process);
                throw new ToolchainException(commandLine + " did not finish within " + seconds(timeout)
                        + " s and was killed", List.of());
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw withCause(new ToolchainException("cannot run " + command.get(0) + " (" + e.getMessage()
                    + "); install GNU binutils (apt-get install binutils)", List.of()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw withCause(new ToolchainException(commandLine + " was interrupted", List.of()), e);
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException ignored) {
                // a leftover file in the temporary directory is harmless
            }
        }
    }

    private static Path createOutputFile(String commandLine) {
        try {
            return Files.createTempFile("kemu-tool-", ".out");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file for the output of " + commandLine, e);
        }
    }

    /** Children first, so that none is re-parented and keeps running after its parent died. */
    private static void killTree(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private static String seconds(Duration timeout) {
        return java.math.BigDecimal.valueOf(timeout.toMillis(), 3).stripTrailingZeros().toPlainString();
    }

    private static ToolchainException withCause(ToolchainException e, Throwable cause) {
        e.initCause(cause);
        return e;
    }
}
