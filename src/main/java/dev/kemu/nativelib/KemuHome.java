package dev.kemu.nativelib;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where kemu's own files are: the kernel sources and linker scripts of the bundled kernel, the firmware
 * stub, {@code scripts/natives.sh} and the {@code .native/} folder that script fills.
 *
 * <p>In kemu's repository that is {@code -Dkemu.home} (the build and the {@code kemu} launcher set it).
 * Used as a library, kemu has no repository: it unpacks the copies its jar carries under {@code kemu-home/}
 * into a per-user cache, {@code -Dkemu.cache} (or {@code KEMU_CACHE}), else {@code $XDG_CACHE_HOME/kemu/VERSION}, else
 * {@code ~/.cache/kemu/VERSION}, once per jar, and runs the unpacked {@code natives.sh} there once per JVM
 * (a second run downloads nothing), so the native libraries get the same hash checks as in the repository.
 */
public final class KemuHome {
    static final String RESOURCE_ROOT = "kemu-home";
    private static final String STAMP = ".unpacked-from";
    private static final long NATIVES_TIMEOUT_MINUTES = 10;

    private static volatile Path directory;
    private static volatile String nativesFailure;
    private static boolean nativesDone;

    private KemuHome() {}

    /** kemu's home: {@code -Dkemu.home}, else the unpacked per-user cache. */
    public static Path directory() {
        Path home = directory;
        if (home == null) {
            synchronized (KemuHome.class) {
                if (directory == null) {
                    String configured = System.getProperty("kemu.home");
                    directory = configured != null && !configured.isBlank()
                            ? Path.of(configured).toAbsolutePath().normalize() : unpack(cacheDirectory());
                }
                home = directory;
            }
        }
        return home;
    }

    /** True when kemu runs from its jar's unpacked copy rather than from its repository. */
    public static boolean isUnpacked() {
        String configured = System.getProperty("kemu.home");
        return configured == null || configured.isBlank();
    }

    /** The version the jar was built as (the {@code VERSION} file it carries). */
    public static String version() {
        try (var in = KemuHome.class.getResourceAsStream("/" + RESOURCE_ROOT + "/VERSION")) {
            if (in == null) {
                throw new IllegalStateException("kemu's class path has no " + RESOURCE_ROOT + "/VERSION: "
                        + "the kemu jar is incomplete; rebuild it with `mvn install` (or `make install`)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kemu's version from its jar", e);
        }
    }

    static Path cacheDirectory() {
        String configured = System.getProperty("kemu.cache", System.getenv("KEMU_CACHE"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("kemu").resolve(version()).toAbsolutePath();
    }

    /**
     * For an unpacked home, runs its {@code scripts/natives.sh} once per JVM; returns why it failed, or
     * null. In the repository the user runs {@code make natives} (the launcher and Makefile do).
     */
    static String prepareNatives() {
        if (!isUnpacked()) {
            return null;
        }
        synchronized (KemuHome.class) {
            if (!nativesDone) {
                nativesFailure = runNativesScript(directory());
                nativesDone = true;
            }
            return nativesFailure;
        }
    }

    private static String runNativesScript(Path home) {
        Path script = home.resolve("scripts/natives.sh");
        Path log = home.resolve("natives.log");
        try (FileChannel lock = lockOf(home); FileLock held = lock.lock()) {
            Process process = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!process.waitFor(NATIVES_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                return script + " did not finish within " + NATIVES_TIMEOUT_MINUTES + " minutes";
            }
            String output = Files.readString(log).strip();
            return process.exitValue() == 0 ? null
                    : script + " failed (exit status " + process.exitValue() + "): " + output;
        } catch (IOException e) {
            return "cannot run " + script + " with bash: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return script + " was interrupted";
        }
    }

    /** Copies the jar's {@code kemu-home/} into {@code cache} unless this very jar was unpacked there already. */
    static Path unpack(Path cache) {
        URL marker = KemuHome.class.getResource("/" + RESOURCE_ROOT + "/VERSION");
        if (marker == null) {
            throw new IllegalStateException("-Dkemu.home is not set and kemu's class path carries no " + RESOURCE_ROOT
                    + "/ files: set -Dkemu.home to kemu's repository, or use the jar `mvn install` builds");
        }
        try {
            Files.createDirectories(cache);
            try (FileChannel lock = lockOf(cache); FileLock held = lock.lock()) {
                try (Source source = Source.of(marker)) {
                    Path stamp = cache.resolve(STAMP);
                    if (Files.exists(stamp) && Files.readString(stamp).equals(source.identity())) {
                        return cache;
                    }
                    try (Stream<Path> files = Files.walk(source.root())) {
                        for (Path file : files.filter(Files::isRegularFile).toList()) {
                            Path target = cache.resolve(source.root().relativize(file).toString());
                            Files.createDirectories(target.getParent());
                            Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                    Files.writeString(stamp, source.identity());
                }
            }
            return cache;
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot unpack kemu's files into " + cache + " (" + e.getMessage()
                    + "); make it writable or choose another folder with -Dkemu.cache=DIR", e);
        }
    }

    private static FileChannel lockOf(Path dir) throws IOException {
        return FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** The {@code kemu-home/} tree in a jar or a classes folder, named by where it came from and when. */
    private record Source(Path root, String identity, FileSystem jar) implements AutoCloseable {
        static Source of(URL marker) throws IOException, URISyntaxException {
            URI uri = marker.toURI();
            if (uri.getScheme().equals("jar")) {
                String spec = uri.getSchemeSpecificPart();
                Path jarFile = Path.of(new URI(spec.substring(0, spec.indexOf("!/"))));
                FileSystem fs = FileSystems.newFileSystem(jarFile, Map.of());
                return new Source(fs.getPath("/" + RESOURCE_ROOT), identityOf(List.of(jarFile)), fs);
            }
            Path root = Path.of(uri).getParent();
            try (Stream<Path> files = Files.walk(root)) {
                return new Source(root, identityOf(files.filter(Files::isRegularFile).sorted().toList()), null);
            }
        }

        private static String identityOf(List<Path> files) throws IOException {
            StringBuilder text = new StringBuilder();
            for (Path file : files) {
                text.append(file).append(' ').append(Files.size(file)).append(' ')
                        .append(Files.getLastModifiedTime(file).toMillis()).append('\n');
            }
            return text.toString();
        }

        @Override
        public void close() throws IOException {
            if (jar != null) {
                jar.close();
            }
        }
    }
}
