package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.toolchain.GnuAssembler;
import dev.kemu.toolchain.GnuLinker;
import dev.kemu.toolchain.ImageBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Assembles a test's guest code with GNU as and links it at a fixed address against the
 * kernel's symbols ({@code --just-symbols}), so snippets can call kernel routines. Results are
 * cached by content in memory and under {@code target/kemu-snippets/}, so a suite pays for
 * the toolchain once per distinct snippet, not once per run.
 */
public final class SnippetAssembler {
    private static final Map<String, Snippet> CACHE = new ConcurrentHashMap<>();

    private final Path kernelElf;
    private final Path cacheDir;
    private final Path includeDir;

    public SnippetAssembler(Path kernelElf) {
        this.kernelElf = kernelElf;
        this.cacheDir = KernelSources.home().resolve("target/kemu-snippets");
        this.includeDir = KernelSources.defaults().includeDir();
    }

    /** Linked snippet: its bytes (code first, then data) and where its code ends. */
    public record Snippet(byte[] image, int codeEnd) {}

    /** {@code source} (Intel syntax, 64-bit) linked to run at {@code address}; execution ends at {@code codeEnd}. */
    public Snippet assemble(String source, long address) {
        String text = ".intel_syntax noprefix\n.include \"kemu.inc\"\n.section .text, \"ax\"\n.code64\n" + source
                + "\n.section .text, \"ax\"\n.global kemu_snippet_end\nkemu_snippet_end:\n    hlt\n";
        String key = sha256(text + "@" + Long.toHexString(address) + "#" + kernelStamp());
        return CACHE.computeIfAbsent(key, k -> fromDiskOrBuild(k, text, address));
    }

    private Snippet fromDiskOrBuild(String key, String text, long address) {
        Path cached = cacheDir.resolve(key + ".bin");
        try {
            if (Files.exists(cached)) {
                byte[] stored = Files.readAllBytes(cached);
                int end = java.nio.ByteBuffer.wrap(stored, 0, 4).getInt();
                return new Snippet(java.util.Arrays.copyOfRange(stored, 4, stored.length), end);
            }
            Path work = Files.createDirectories(cacheDir.resolve(key + ".work"));
            Path source = work.resolve("snippet.S");
            Files.writeString(source, text);
            Path script = work.resolve("snippet.ld");
            Files.writeString(script, String.format("SECTIONS { . = 0x%x; .snippet : { *(.text*) *(.rodata*) *(.data*) "
                    + "*(.bss*) *(COMMON) } /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame*) } }%n", address));
            Path elf = work.resolve("snippet.elf");
            new ImageBuilder(new GnuAssembler(), new GnuLinker("ld", List.of("--just-symbols=" + kernelElf)))
                    .build(List.of(source), List.of(includeDir), script, elf);
            ElfImage image = ElfImage.read(elf);
            Segment segment = image.segments().getFirst();
            byte[] code = java.util.Arrays.copyOf(segment.data(), (int) segment.memSize());
            int end = (int) (image.symbols().address("kemu_snippet_end") - address);
            Path temporary = Files.createTempFile(cacheDir, key, ".tmp");
            Files.write(temporary, java.nio.ByteBuffer.allocate(4 + code.length).putInt(end).put(code).array());
            Files.move(temporary, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return new Snippet(code, end);
        } catch (IOException e) {
            throw new UncheckedIOException("assembling a snippet in " + cacheDir, e);
        }
    }

    private String kernelStamp() {
        try {
            return kernelElf + ":" + Files.getLastModifiedTime(kernelElf).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
