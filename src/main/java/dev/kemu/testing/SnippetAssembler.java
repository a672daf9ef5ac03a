package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.elf.SymbolTable;
import dev.kemu.toolchain.GnuAssembler;
import dev.kemu.toolchain.GnuLinker;
import dev.kemu.toolchain.CCompiler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Assembles a test's guest code with Keystone in process ({@link KeystoneSnippets}), or with GNU as
 * (the {@link SnippetToolchain} chosen), and links it at a fixed address against the
 * kernel's symbols ({@code --just-symbols}), so snippets can call kernel routines. Results are
 * cached by content in memory and as linked ELF files under {@code target/kemu-snippets/}
 * (both bounded, least recently used first out), so a suite pays for the toolchain once per
 * distinct snippet, not once per run (Keystone's too, in {@code target/kemu-snippets-keystone/}: a JVM whose
 * snippets are all cached never starts Keystone's module). The snippet's own labels come with it, for fault reports. Guest code in C is always
 * compiled by gcc and linked by GNU ld.
 */
public final class SnippetAssembler {
    /** Distinct snippets kept on disk; a suite has a few hundred, a fuzzing session many thousands. */
    static final int DISK_ENTRIES = 2000;
    private static final int MEMORY_ENTRIES = 512;
    /** Part of every key: entries written in an older layout are never read back. */
    private static final String FORMAT = "elf-v2";
    private static final Map<String, Snippet> MEMORY = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Snippet> eldest) {
            return size() > MEMORY_ENTRIES;
        }
    };

    private final Path kernelElf;
    private final SnippetCache disk;
    private final SnippetCache keystoneDisk;
    private final Path includeDir;
    private final SnippetToolchain toolchain;
    private final int bits;
    private KeystoneSnippets keystone;
    /**
     * The same test's snippet again, found without hashing its text or reading the kernel's time stamp:
     * a suite runs each snippet once per repetition. Per assembler, so per booted machine, whose
     * kernel's symbols are the ones a snippet must link against even if the file is rebuilt meanwhile.
     */
    private final Map<RecentKey, Snippet> recent = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RecentKey, Snippet> eldest) {
            return size() > RECENT_ENTRIES;
        }
    };
    private static final int RECENT_ENTRIES = 256;

    private record RecentKey(String source, String origin, long address) {
    }

    public SnippetAssembler(Path kernelElf) {
        this(kernelElf, 64);
    }

    /** Snippets in {@code bits}-bit code (64, or 32 for a 32-bit protected-mode kernel). */
    public SnippetAssembler(Path kernelElf, int bits) {
        this(kernelElf, ProjectFiles.resolve("target/kemu-snippets"), DISK_ENTRIES, SnippetToolchain.configured(), bits);
    }

    SnippetAssembler(Path kernelElf, Path cacheDir, int diskEntries) {
        this(kernelElf, cacheDir, diskEntries, SnippetToolchain.configured());
    }

    SnippetAssembler(Path kernelElf, Path cacheDir, int diskEntries, SnippetToolchain toolchain) {
        this(kernelElf, cacheDir, diskEntries, toolchain, 64);
    }

    SnippetAssembler(Path kernelElf, Path cacheDir, int diskEntries, SnippetToolchain toolchain, int bits) {
        if (bits != 32 && bits != 64) {
            throw new IllegalArgumentException("snippets are 32- or 64-bit code, not " + bits + "-bit");
        }
        this.bits = bits;
        this.toolchain = toolchain;
        this.kernelElf = kernelElf;
        this.disk = new SnippetCache(cacheDir, diskEntries);
        // a sibling, not a subdirectory: the GNU cache's pruning deletes what it does not know
        this.keystoneDisk = new SnippetCache(cacheDir.resolveSibling(cacheDir.getFileName() + "-keystone"), diskEntries,
                KeystoneSnippetFile.SUFFIX);
        this.includeDir = KernelSources.defaults().includeDir();
    }

    /**
     * Linked snippet: its bytes (code first, then data), where its code ends, and its own
     * symbols (its labels; the kernel's are not repeated).
     */
    public record Snippet(byte[] image, int codeEnd, SymbolTable symbols) {}

    /** Name of inline snippets in assembler messages ({@code snippet:3: Error: ...}, lines counted from its first). */
    public static final String INLINE = "snippet";

    /** {@code source} (Intel syntax, 64-bit) linked to run at {@code address}; execution ends at {@code codeEnd}. */
    public Snippet assemble(String source, long address) {
        return assemble(source, INLINE, address);
    }

    /**
     * The same, with assembler messages naming {@code origin} (the user's file) and the source's own line
     * numbers: a line marker after kemu's prelude resets GNU as's file and line.
     */
    public Snippet assemble(String source, String origin, long address) {
        RecentKey key = new RecentKey(source, origin, address);
        synchronized (recent) {
            Snippet again = recent.get(key);
            if (again != null) {
                return again;
            }
        }
        Snippet snippet = assembleOnce(source, origin, address);
        synchronized (recent) {
            recent.put(key, snippet);
        }
        return snippet;
    }

    private Snippet assembleOnce(String source, String origin, long address) {
        if (toolchain == SnippetToolchain.KEYSTONE) {
            return cachedInMemory("keystone" + bits + "\n" + origin + "\n" + source, address, () -> keystone().assemble(source, origin, address));
        }
        String text = ".intel_syntax noprefix\n.include \"kemu.inc\"\n.section .text, \"ax\"\n.code" + bits + "\n"
                + "# 1 \"" + origin.replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n" + source
                + "\n# 1 \"<kemu snippet end>\"\n" + END;
        return cached(text, null, address);
    }

    /** The snippet's end: the harness stops there, so a snippet ends when it falls through its last instruction. */
    static final String END_LABEL = "kemu_snippet_end";
    static final String END = ".section .text, \"ax\"\n.global " + END_LABEL + "\n" + END_LABEL + ":\n    hlt\n";

    /** The toolchain assembling this machine's assembly snippets. */
    public SnippetToolchain toolchain() {
        return toolchain;
    }

    private synchronized KeystoneSnippets keystone() {
        if (keystone == null) {
            keystone = new KeystoneSnippets(kernelElf, includeDir, bits);
        }
        return keystone;
    }

    private Snippet cachedInMemory(String text, long address, java.util.function.Supplier<Snippet> build) {
        String key = sha256(FORMAT + "\n" + KeystoneSnippets.codeStamp() + "\n" + text + "@" + Long.toHexString(address)
                + "#" + kernelStamp());
        synchronized (MEMORY) {
            Snippet cached = MEMORY.get(key);
            if (cached != null) {
                return cached;
            }
        }
        Snippet snippet = KeystoneSnippetFile.read(keystoneDisk, key).orElseGet(() -> {
            Snippet built = build.get();
            KeystoneSnippetFile.write(keystoneDisk, key, built);
            return built;
        });
        synchronized (MEMORY) {
            MEMORY.put(key, snippet);
        }
        return snippet;
    }

    /** The function C calls to run guest code in C; what it returns lands in RAX. */
    public static final String C_ENTRY = "kemu_test";

    /**
     * Guest code in C ({@link CCompiler#KERNEL_FLAGS}) linked to run at {@code address}: a stub calls its
     * {@code long kemu_test(void)}; messages name {@code origin} and the source's own lines ({@code #line}).
     */
    public Snippet assembleC(String cSource, String origin, long address) {
        String stub = ".intel_syntax noprefix\n.section .text, \"ax\"\n.code" + bits + "\n    call " + C_ENTRY
                + "\n.global kemu_snippet_end\nkemu_snippet_end:\n    hlt\n";
        String c = "#line 1 \"" + origin.replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n" + cSource + "\n";
        return cached(stub, c, address);
    }

    private Snippet cached(String text, String cText, long address) {
        String key = sha256(FORMAT + "\n" + text + (cText == null ? "" : "\n/*C*/\n" + cText) + "@"
                + Long.toHexString(address) + "#" + kernelStamp());
        Snippet cached;
        synchronized (MEMORY) {
            cached = MEMORY.get(key);
        }
        if (cached != null) {
            return cached;
        }
        Snippet snippet = fromDiskOrBuild(key, text, cText, address);
        synchronized (MEMORY) {
            MEMORY.put(key, snippet);
        }
        return snippet;
    }

    private Snippet fromDiskOrBuild(String key, String text, String cText, long address) {
        try {
            Optional<byte[]> stored = disk.lookup(key);
            if (stored.isPresent()) {
                return snippetOf(ElfImage.parse(Path.of(key + ".elf"), stored.get()), address);
            }
            Path work = disk.workDir(key);
            Path source = work.resolve("snippet.S");
            Files.writeString(source, text);
            Path script = work.resolve("snippet.ld");
            Files.writeString(script, String.format("SECTIONS { . = 0x%x; .snippet : { *(.text*) *(.rodata*) *(.data*) "
                    + "*(.bss*) *(COMMON) } /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame*) } }%n", address));
            Path elf = work.resolve("snippet.elf");
            List<Path> objects = new ArrayList<>();
            objects.add(work.resolve("snippet.o"));
            // ld takes symbols from an ELF32 kernel only into an i386 output: then the snippet is i386 objects
            // (and its C gcc -m32); against an ELF64 kernel, 32-bit code is .code32 in x86-64 objects.
            boolean i386 = kernelIsElf32();
            (i386 ? GnuAssembler.i386() : new GnuAssembler()).assemble(source, List.of(includeDir), objects.getFirst());
            if (cText != null) {
                if (bits == 32 && !i386) {
                    throw new UnsupportedOperationException("32-bit guest code in C needs the kernel as an ELF32 "
                            + "(i386) file, which gcc -m32 output can link against; " + kernelElf + " is ELF64");
                }
                Path cSource = work.resolve("snippet.c");
                Files.writeString(cSource, cText);
                objects.add(work.resolve("snippet_c.o"));
                (i386 ? CCompiler.i386() : new CCompiler()).compile(cSource, List.of(), List.of(), objects.getLast());
            }
            List<String> linkArguments = i386 ? List.of("-m", "elf_i386", "--just-symbols=" + kernelElf)
                    : List.of("--just-symbols=" + kernelElf);
            new GnuLinker("ld", linkArguments).link(objects, script, elf);
            Snippet snippet = snippetOf(ElfImage.read(elf), address);
            disk.store(key, elf, work);
            return snippet;
        } catch (IOException e) {
            throw new UncheckedIOException("assembling a snippet in " + disk.dir(), e);
        }
    }

    /** Whether the kernel snippets link against is an ELF32 file ({@code EI_CLASS} = 1). */
    private boolean kernelIsElf32() throws IOException {
        try (var in = Files.newInputStream(kernelElf)) {
            byte[] ident = in.readNBytes(5);
            return ident.length == 5 && ident[4] == 1;
        }
    }

    private static Snippet snippetOf(ElfImage image, long address) {
        Segment segment = image.segments().getFirst();
        byte[] code = java.util.Arrays.copyOf(segment.data(), (int) segment.memSize());
        int end = (int) (image.symbols().address("kemu_snippet_end") - address);
        // --just-symbols makes the kernel's symbols absolute, and ElfImage skips absolute symbols:
        // what is left are the snippet's own labels.
        return new Snippet(code, end, image.symbols());
    }

    private String kernelStamp() {
        try {
            return kernelElf + ":" + Files.getLastModifiedTime(kernelElf).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat the kernel image " + kernelElf + " the snippets link against", e);
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
