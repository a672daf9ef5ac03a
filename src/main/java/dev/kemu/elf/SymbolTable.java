package dev.kemu.elf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Symbols of an image, searchable by name and by address ({@code kmain+0x1f}), with the source line
 * of an address when the image has DWARF line information ({@code kmain+0x1f (kernel.c:42)}).
 */
public final class SymbolTable {
    private final List<Symbol> byAddress;
    private final Map<String, Symbol> byName = new HashMap<>();
    private final SourceLines lines;

    public SymbolTable(List<Symbol> symbols) {
        this(symbols, SourceLines.NONE);
    }

    private SymbolTable(List<Symbol> symbols, SourceLines lines) {
        this.lines = lines;
        List<Symbol> sorted = new ArrayList<>(symbols);
        sorted.sort(Comparator.comparing(Symbol::address, Long::compareUnsigned));
        this.byAddress = List.copyOf(sorted);
        for (Symbol symbol : sorted) {
            byName.putIfAbsent(symbol.name(), symbol);
        }
    }

    /** Every symbol, by address. */
    public List<Symbol> all() {
        return byAddress;
    }

    public static SymbolTable empty() {
        return new SymbolTable(List.of());
    }

    public Optional<Symbol> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * Every address {@code name} stands for, lowest first: one, or two for an ELF32 symbol above 2 GiB
     * (its sign-extended alias, where a 64-bit kernel converted to ELF32 runs it; see ElfImage).
     */
    public List<Long> addressesOf(String name) {
        return byAddress.stream().filter(s -> s.name().equals(name)).map(Symbol::address).toList();
    }

    /** The address of {@code name}, or an exception naming what is missing. */
    public long address(String name) {
        return find(name).orElseThrow(() -> new ElfFormatException("symbol '" + name + "' not found")).address();
    }

    /** The symbol at or below {@code address}, preferring functions when several share an address. */
    public Optional<Symbol> containing(long address) {
        Symbol best = null;
        for (Symbol symbol : byAddress) {
            if (Long.compareUnsigned(symbol.address(), address) > 0) {
                break;
            }
            if (best == null || symbol.address() != best.address() || symbol.function()) {
                best = symbol;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        long offset = address - best.address();
        // Sized symbols cover their size; assembly labels (size 0) cover what follows them, up to 64 KiB.
        boolean covered = best.size() > 0 ? Long.compareUnsigned(offset, best.size()) < 0
                : Long.compareUnsigned(offset, 0x10000) < 0;
        if (!covered) {
            return Optional.empty();
        }
        return Optional.of(best);
    }

    /**
     * {@code name+0xoffset}, {@code name}, or the bare hex address when no symbol fits, followed by
     * {@code (file.c:LINE)} when the line information knows the address.
     */
    public String symbolize(long address) {
        String symbol = symbolOnly(address);
        return sourceLine(address).map(line -> symbol + " (" + line.shortText() + ")").orElse(symbol);
    }

    /** {@code name+0xoffset}, {@code name}, or the bare hex address: {@link #symbolize} without the source line. */
    public String symbolOnly(long address) {
        return containing(address).map(s -> address == s.address() ? s.name()
                : s.name() + "+0x" + Long.toHexString(address - s.address()))
                .orElse("0x" + Long.toHexString(address));
    }

    /** The source line of the code at {@code address}, when the image has line information for it. */
    public Optional<SourceLine> sourceLine(long address) {
        return lines.at(address);
    }

    /** The same symbols, with {@code sourceLines} answering for their addresses. */
    public SymbolTable withSourceLines(SourceLines sourceLines) {
        return new SymbolTable(byAddress, sourceLines);
    }

    /** A table holding the symbols and the line information of both. */
    public SymbolTable merge(SymbolTable other) {
        List<Symbol> all = new ArrayList<>(byAddress);
        all.addAll(other.byAddress);
        return new SymbolTable(all, lines.or(other.lines));
    }
}
