package dev.kemu.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Optional;

/**
 * The on-disk cache of linked snippets: one {@code KEY.elf} (GNU-linked; {@code KEY.ks} for Keystone's,
 * in a directory of their own) per distinct snippet, at most
 * {@code maxEntries} of them. A hit refreshes the file's modification time, and when a store
 * goes past the limit the least recently used quarter is deleted, so a long fuzzing session
 * cannot fill the disk (it once reached 87 MB after 3,130 snippets). Several threads and JVMs
 * may share the directory: every file appears by an atomic move, and a file deleted under a
 * reader is simply built again.
 */
final class SnippetCache {
    /** Left-over build directories and temporary files older than this belong to no running build. */
    private static final Duration STALE = Duration.ofMinutes(10);

    private final Path dir;
    private final int maxEntries;
    private final String suffix;

    SnippetCache(Path dir, int maxEntries) {
        this(dir, maxEntries, ".elf");
    }

    SnippetCache(Path dir, int maxEntries, String suffix) {
        this.suffix = suffix;
        if (maxEntries < 1) {
            throw new IllegalArgumentException("the snippet cache must hold at least one entry, got " + maxEntries);
        }
        this.dir = dir;
        this.maxEntries = maxEntries;
    }

    Path dir() {
        return dir;
    }

    /** The bytes of {@code key}'s ELF, or empty when it is not cached (or was just pruned by someone else). */
    Optional<byte[]> lookup(String key) {
        Path file = entry(key);
        try {
            byte[] bytes = Files.readAllBytes(file);
            Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
            return Optional.of(bytes);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading the cached snippet " + file, e);
        }
    }

    /** A fresh private directory for building {@code key}. */
    Path workDir(String key) throws IOException {
        Files.createDirectories(dir);
        return Files.createTempDirectory(dir, key + ".work");
    }

    /**
     * Moves {@code built} into the cache as {@code key}, deletes {@code workDir}, and prunes on the first
     * store and then every {@link #pruneInterval()} stores: listing a directory of thousands of entries on
     * every store cost more than assembling a snippet with Keystone's compiled module. Between prunes the
     * directory may exceed the limit by that many entries per JVM.
     */
    void store(String key, Path built, Path workDir) throws IOException {
        Files.move(built, entry(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        deleteTree(workDir);
        if (storesSincePrune.getAndIncrement() % pruneInterval() == 0) {
            prune();
        }
    }

    /** Stores {@code bytes} as {@code key} through a temporary file in the cache itself (no build directory). */
    void store(String key, byte[] bytes) throws IOException {
        // a name no other thread or JVM writes (pid, a count of this JVM's stores), created once: no random name to draw,
        // no second open, and nothing to delete after the move (a stale one is pruned with crashed builds')
        Path tmp = dir.resolve(key + "." + PID + "." + TEMPORARIES.incrementAndGet() + ".tmp");
        boolean moved = false;
        try {
            try {
                Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) { // the first store, or the directory was removed meanwhile
                Files.createDirectories(dir);
                Files.write(tmp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            }
            Files.move(tmp, entry(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
        if (storesSincePrune.getAndIncrement() % pruneInterval() == 0) {
            prune();
        }
    }

    private final AtomicLong storesSincePrune = new AtomicLong();
    private static final AtomicLong TEMPORARIES = new AtomicLong();
    private static final long PID = ProcessHandle.current().pid();

    private int pruneInterval() {
        return Math.max(1, maxEntries / 16);
    }

    /** Deletes the least recently used entries beyond the limit, and stale left-overs of crashed builds. */
    void prune() throws IOException {
        List<Path> entries = new ArrayList<>();
        Instant staleBefore = Instant.now().minus(STALE);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(suffix)) {
                    entries.add(file);
                } else if (name.endsWith(".bin") || modifiedBefore(file, staleBefore)) {
                    deleteTree(file); // .bin: the format before symbols were cached; the rest: crashed builds
                }
            }
        }
        if (entries.size() <= maxEntries) {
            return;
        }
        Map<Path, FileTime> modified = new HashMap<>(); // one stat per entry, not one per comparison
        entries.forEach(file -> modified.put(file, modified(file)));
        entries.sort(Comparator.comparing(modified::get));
        int keep = Math.max(1, maxEntries * 3 / 4);
        for (Path file : entries.subList(0, entries.size() - keep)) {
            Files.deleteIfExists(file);
        }
    }

    private Path entry(String key) {
        return dir.resolve(key + suffix);
    }

    private static boolean modifiedBefore(Path file, Instant limit) {
        return modified(file).toInstant().isBefore(limit);
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return FileTime.from(Instant.EPOCH); // already gone: sorts first, deleting it is a no-op
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException | UncheckedIOException e) {
            // another thread or JVM pruned it first
        }
    }
}
