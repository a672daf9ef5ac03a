package dev.kemu.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The memory picture of a failing test's last run ({@code --mm-svg} for tests, docs/memory-pictures.md), written
 * next to the surefire reports as {@code Class.method.mm.svg}. {@code -Dkemu.mmSvg=DIR} picks the directory,
 * {@code -Dkemu.mmSvg=off} turns it off; without the property it is written only where target/surefire-reports exists.
 */
final class FailurePicture {
    static final String PROPERTY = "kemu.mmSvg";

    private FailurePicture() {}

    /** The line to append to the failure message, or empty when no picture was written. */
    static Optional<String> write(GuestRun run, String testClass, String testMethod) {
        return write(run, testClass, testMethod, System.getProperty(PROPERTY, ""));
    }

    /** {@link #write(GuestRun, String, String)} with the property's value given: a directory, "off" or "". */
    static Optional<String> write(GuestRun run, String testClass, String testMethod, String setting) {
        if (setting.equals("off") || !run.usesMemoryServices()) {
            return Optional.empty();
        }
        Path directory = Path.of(setting.isEmpty() ? "target/surefire-reports" : setting);
        if (setting.isEmpty() && !Files.isDirectory(directory)) {
            return Optional.empty();
        }
        Path file = directory.resolve(testClass + "." + testMethod + ".mm.svg");
        try {
            Files.createDirectories(directory);
            Files.writeString(file, run.memorySvg(), StandardCharsets.UTF_8);
            return Optional.of("memory picture: " + file.toAbsolutePath());
        } catch (IOException | RuntimeException e) {
            // The picture is a help: its failure must not hide the test's own.
            return Optional.of("memory picture not written to " + file + ": " + e);
        }
    }
}
