package dev.kemu.elf;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Symbols of an image, searchable by name and by address ({@code kmain+0x1f}). */
public final class SymbolTable {
    private final List<Symbol> byAddress;
    private final Map<String, Symbol> byName = new HashMap<>();

    public SymbolTable(List<Symbol> symbols) {
        List<Symbol> sorted = new ArrayList<>(symbols);
        sorted.sort(Comparator.comparing(Symbol::address, Long::compareUnsigned));
        this.byAddress = List.copyOf(sorted);
        for (Symbol symbol : sorted) {
            byName.putIfAbsent(symbol.name(), symbol);
        }
    }

    public static SymbolTable empty() {
        return new SymbolTable(List.of());
    }

    public Optional<Symbol> find(String name) {
        return Optional.ofNullable(byName.get(name));
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

    /** {@code name+0xoffset}, {@code name}, or the bare hex address when no symbol fits. */
    public String symbolize(long address) {
        return containing(address).map(s -> address == s.address() ? s.name()
                : s.name() + "+0x" + Long.toHexString(address - s.address()))
                .orElse("0x" + Long.toHexString(address));
    }

    /** A table holding the symbols of both. */
    public SymbolTable merge(SymbolTable other) {
        List<Symbol> all = new ArrayList<>(byAddress);
        all.addAll(other.byAddress);
        return new SymbolTable(all);
    }
}
