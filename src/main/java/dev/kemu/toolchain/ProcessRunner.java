package dev.kemu.toolchain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a tool and returns its exit status and combined output. */
final class ProcessRunner {
    record Result(int exitCode, String output) {}

    private ProcessRunner() {}

    static Result run(List<String> command, Path workingDir) {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        if (workingDir != null) {
            builder.directory(workingDir.toFile());
        }
        try {
            Process process = builder.start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new ToolchainException(command.get(0) + " did not finish within 60 s", List.of());
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ToolchainException("cannot run " + command.get(0) + " (" + e.getMessage()
                    + "); install GNU binutils (apt-get install binutils)", List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ToolchainException(command.get(0) + " was interrupted", List.of());
        }
    }
}
