package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.toolchain.keystone.KeystoneModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The snippet cache on disk stays bounded, drops the least recently used entries first and leaves no build debris. */
class SnippetCacheTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(SnippetToolchain.class)
    void manyDistinctSnippets_leaveAtMostTheLimit_andNoBuildDirectories(SnippetToolchain toolchain) throws IOException {
        assumeTrue(toolchain == SnippetToolchain.GNU || KeystoneModule.available(),
                () -> KeystoneModule.unavailableReason().orElse(""));
        Path kernel = KernelSources.defaults().build().kernel();
        SnippetAssembler assembler = new SnippetAssembler(kernel, dir.resolve("snippets"), 4, toolchain);
        String nonce = UUID.randomUUID().toString(); // distinct from every snippet other tests cached in memory
        for (int i = 0; i < 10; i++) {
            SnippetAssembler.Snippet snippet = assembler.assemble("    mov eax, " + i + " # " + nonce, 0x1000);
            assertTrue(snippet.image().length > 0);
        }
        // Keystone's snippets go to a sibling directory: the GNU cache's pruning deletes what it does not know
        Path cacheDir = dir.resolve(toolchain == SnippetToolchain.GNU ? "snippets" : "snippets-keystone");
        String suffix = toolchain == SnippetToolchain.GNU ? ".elf" : KeystoneSnippetFile.SUFFIX;
        List<Path> left;
        try (var files = Files.list(cacheDir)) {
            left = files.toList();
        }
        assertTrue(!left.isEmpty() && left.size() <= 4, left.toString());
        assertTrue(left.stream().allMatch(p -> p.getFileName().toString().endsWith(suffix)), left.toString());
    }

    @Test
    void prune_keepsTheRecentlyUsedEntry_andDeletesTheOldestAndLeftOvers() throws IOException {
        SnippetCache cache = new SnippetCache(dir, 4);
        Instant old = Instant.now().minusSeconds(3600);
        for (int i = 0; i < 4; i++) {
            Path entry = Files.write(dir.resolve("k" + i + ".elf"), new byte[]{(byte) i});
            Files.setLastModifiedTime(entry, FileTime.from(old.plusSeconds(i)));
        }
        Path oldFormat = Files.write(dir.resolve("legacy.bin"), new byte[8]);
        Path crashedBuild = Files.createDirectories(dir.resolve("k9.work123"));
        Files.setLastModifiedTime(crashedBuild, FileTime.from(old));

        assertEquals(1, cache.lookup("k0").orElseThrow().length, "k0, the oldest, is used again");
        Path work = cache.workDir("k5");
        Path built = Files.write(work.resolve("snippet.elf"), new byte[]{5});
        cache.store("k5", built, work);

        assertTrue(Files.exists(dir.resolve("k0.elf")), "recently used");
        assertTrue(Files.exists(dir.resolve("k5.elf")), "just stored");
        assertFalse(Files.exists(dir.resolve("k1.elf")), "least recently used");
        assertFalse(Files.exists(work), "the build directory is removed");
        assertFalse(Files.exists(oldFormat));
        assertFalse(Files.exists(crashedBuild));
        try (var files = Files.list(dir)) {
            assertEquals(3, files.count(), "pruned to three quarters of the limit");
        }
    }

    @Test
    void storedBytes_comeBack_evenAfterTheDirectoryIsRemoved_andNoTemporaryStays() throws IOException {
        Path cacheDir = dir.resolve("ks");
        SnippetCache cache = new SnippetCache(cacheDir, 8, ".ks");
        cache.store("a", new byte[]{1, 2});
        Files.delete(cacheDir.resolve("a.ks"));
        Files.delete(cacheDir);
        cache.store("b", new byte[]{3});
        cache.store("b", new byte[]{4}); // replaces
        assertEquals(List.of((byte) 4), List.of(cache.lookup("b").orElseThrow()[0]));
        try (var files = Files.list(cacheDir)) {
            assertEquals(List.of("b.ks"), files.map(f -> f.getFileName().toString()).toList());
        }
    }
}
