package dev.kemu.testing;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Symbol;
import dev.kemu.elf.SymbolTable;
import dev.kemu.toolchain.keystone.KeystoneLinker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A snippet assembled by Keystone in process and linked against the kernel's symbols by
 * {@link KeystoneLinker}: kemu.inc first (its constants and macros, as the GNU prelude's
 * {@code .include}), then the user's source under its own name and lines, then the end marker.
 */
final class KeystoneSnippets {
    private final SymbolTable kernelSymbols;
    /** kemu.inc and the code mode: one object for every snippet, so the linker's memo of it is found at once. */
    private final KeystoneLinker.Source prelude;
    private final KeystoneLinker linker = new KeystoneLinker();

    KeystoneSnippets(Path kernelElf, Path includeDir, int bits) {
        this.kernelSymbols = ElfImage.read(kernelElf).symbols();
        Path inc = includeDir.resolve("kemu.inc");
        try {
            this.prelude = new KeystoneLinker.Source(Files.readString(inc) + "\n.code" + bits + "\n", inc.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + inc + ", the constants and macros every snippet sees", e);
        }
    }

    SnippetAssembler.Snippet assemble(String source, String origin, long address) {
        KeystoneLinker.Linked linked = linker.link(origin, List.of(
                prelude,
                new KeystoneLinker.Source(source, origin),
                new KeystoneLinker.Source(SnippetAssembler.END, "<kemu snippet end>")), address, this::kernelSymbol);
        List<Symbol> symbols = new ArrayList<>();
        linked.labels().forEach((name, value) -> symbols.add(new Symbol(name, value, 0, false)));
        long end = linked.labels().get(SnippetAssembler.END_LABEL);
        return new SnippetAssembler.Snippet(linked.image(), (int) (end - address), new SymbolTable(symbols));
    }

    private static String codeStamp;

    /**
     * A digest of the classes that turn a snippet into bytes on this path, part of every cache key: a
     * kemu whose Keystone linking changed never reads snippets an older one cached.
     */
    static synchronized String codeStamp() {
        if (codeStamp == null) {
            try {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                for (String name : STAMPED) {
                    try (InputStream in = KeystoneSnippets.class.getResourceAsStream("/" + name + ".class")) {
                        if (in != null) {
                            digest.update(in.readAllBytes());
                        }
                    }
                }
                codeStamp = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
            } catch (IOException | NoSuchAlgorithmException e) {
                throw new IllegalStateException("cannot stamp the snippet assembler's classes", e);
            }
        }
        return codeStamp;
    }

    private static final List<String> STAMPED = List.of("dev/kemu/testing/KeystoneSnippets",
            "dev/kemu/toolchain/keystone/KeystoneLinker", "dev/kemu/toolchain/keystone/KeystoneAssembler",
            "dev/kemu/toolchain/keystone/SectionLayout", "dev/kemu/toolchain/keystone/LocalLabels",
            "dev/kemu/toolchain/keystone/MacroExpander", "dev/kemu/toolchain/keystone/CodeFill",
            "dev/kemu/toolchain/keystone/QuirkGuards", "dev/kemu/toolchain/keystone/SourceSplitter",
            "dev/kemu/toolchain/keystone/Statement");

    private OptionalLong kernelSymbol(String name) {
        return kernelSymbols.find(name).map(s -> OptionalLong.of(s.address())).orElse(OptionalLong.empty());
    }
}
