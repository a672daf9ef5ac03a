package dev.kemu.testing;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Symbol;
import dev.kemu.elf.SymbolTable;
import dev.kemu.toolchain.keystone.KeystoneLinker;

import java.io.IOException;
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
    private final String prelude;
    private final String preludeFile;
    private final KeystoneLinker linker = new KeystoneLinker();

    private final int bits;

    KeystoneSnippets(Path kernelElf, Path includeDir, int bits) {
        this.bits = bits;
        this.kernelSymbols = ElfImage.read(kernelElf).symbols();
        Path inc = includeDir.resolve("kemu.inc");
        try {
            this.prelude = Files.readString(inc);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + inc + ", the constants and macros every snippet sees", e);
        }
        this.preludeFile = inc.toString();
    }

    SnippetAssembler.Snippet assemble(String source, String origin, long address) {
        KeystoneLinker.Linked linked = linker.link(origin, List.of(
                new KeystoneLinker.Source(prelude + "\n.code" + bits + "\n", preludeFile),
                new KeystoneLinker.Source(source, origin),
                new KeystoneLinker.Source(SnippetAssembler.END, "<kemu snippet end>")), address, this::kernelSymbol);
        List<Symbol> symbols = new ArrayList<>();
        linked.labels().forEach((name, value) -> symbols.add(new Symbol(name, value, 0, false)));
        long end = linked.labels().get(SnippetAssembler.END_LABEL);
        return new SnippetAssembler.Snippet(linked.image(), (int) (end - address), new SymbolTable(symbols));
    }

    private OptionalLong kernelSymbol(String name) {
        return kernelSymbols.find(name).map(s -> OptionalLong.of(s.address())).orElse(OptionalLong.empty());
    }
}
