package dev.kemu.testing;

import java.nio.file.Path;

/**
 * Paths in tests (kernel images, {@code runFile} sources) are the user's project's: relative paths resolve
 * against the project directory, {@code -Dkemu.project.dir}, else the working directory (where Maven's
 * test runner starts: the module's base directory).
 */
public final class ProjectFiles {
    private ProjectFiles() {}

    public static Path directory() {
        String configured = System.getProperty("kemu.project.dir");
        return Path.of(configured != null && !configured.isBlank() ? configured : System.getProperty("user.dir"))
                .toAbsolutePath().normalize();
    }

    public static Path resolve(String path) {
        return directory().resolve(path).normalize();
    }
}
