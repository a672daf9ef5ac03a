package dev.kemu.testutil;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Host programs the tests use (QEMU, gcc, binutils), looked up on the PATH as a shell would. */
public final class HostTools {
    private HostTools() {}

    public static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String directory : path.split(File.pathSeparator)) {
            Path candidate = Path.of(directory.isEmpty() ? "." : directory, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return true;
            }
        }
        return false;
    }

    /** The programs of {@code programs} that are not on the PATH. */
    public static List<String> missing(List<String> programs) {
        return programs.stream().filter(program -> !onPath(program)).toList();
    }
}
