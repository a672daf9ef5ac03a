package dev.kemu.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The process's working directory, which kemu's resident daemon changes to each client's ({@code chdir(2)}): the
 * JDK passes relative paths to the system as they are, so opening {@code --kernel x.elf} finds the client's file and
 * error messages keep the name the user typed. {@link Path#toAbsolutePath()} does not follow (the JVM fixes its
 * default directory at start), so code that needs an absolute path takes it from {@link #absolute}.
 */
public final class ProcessDirectory {
    private static volatile Path changedTo;

    private ProcessDirectory() {}

    /** {@code path} made absolute against the directory the process is in now. */
    public static Path absolute(Path path) {
        Path base = changedTo;
        return path.isAbsolute() || base == null ? path.toAbsolutePath() : base.resolve(path);
    }

    /** Enters {@code directory} (absolute); false when the system refuses (gone, not searchable). */
    public static boolean change(Path directory) {
        if (!directory.isAbsolute()) {
            throw new IllegalArgumentException("ProcessDirectory.change needs an absolute directory, not " + directory);
        }
        try (Arena arena = Arena.ofConfined()) {
            int result = (int) Chdir.HANDLE.invokeExact(arena.allocateFrom(directory.toString()));
            if (result != 0) {
                return false;
            }
        } catch (Throwable e) {
            throw new IllegalStateException("chdir(" + directory + ") failed in the native call", e);
        }
        changedTo = directory;
        return true;
    }

    private static final class Chdir {
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("chdir").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    }
}
