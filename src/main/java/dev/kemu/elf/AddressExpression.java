package dev.kemu.elf;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * An address as a user writes it: hex ({@code 0xffffffff80100000}), decimal, a symbol ({@code kmain})
 * or a symbol with an offset ({@code kmain+0x10}, {@code kmain+16}).
 */
public record AddressExpression(String text, Optional<String> symbol, long offset) {
    public static AddressExpression parse(String text) {
        String t = text.strip().replace("_", "");
        OptionalLong number = number(t);
        if (number.isPresent()) {
            return new AddressExpression(text, Optional.empty(), number.getAsLong());
        }
        int plus = text.indexOf('+');
        String name = (plus < 0 ? text : text.substring(0, plus)).strip();
        if (!name.matches("[A-Za-z_.$][A-Za-z0-9_.$@]*")) {
            throw new IllegalArgumentException("not an address or a symbol: '" + text
                    + "' (use hex like 0xffffffff80100000, a symbol like kmain, or kmain+0x10)");
        }
        long offset = 0;
        if (plus >= 0) {
            OptionalLong parsed = number(text.substring(plus + 1).strip().replace("_", ""));
            if (parsed.isEmpty()) {
                throw new IllegalArgumentException("bad offset in '" + text + "': after '+' comes a number such as 0x10 or 16");
            }
            offset = parsed.getAsLong();
        }
        return new AddressExpression(text, Optional.of(name), offset);
    }

    /** The address in {@code symbols}; an error naming the symbol when the kernel has none by that name. */
    public long resolve(SymbolTable symbols, String imageName) {
        if (symbol.isEmpty()) {
            return offset;
        }
        return symbols.find(symbol.get()).map(s -> s.address() + offset).orElseThrow(() -> new IllegalArgumentException(
                "no symbol '" + symbol.get() + "' in " + imageName + " (the kernel's ELF symbol table; check the name "
                        + "with 'nm', or give a hex address)"));
    }

    private static OptionalLong number(String t) {
        try {
            String lower = t.toLowerCase();
            if (lower.startsWith("0x")) {
                return OptionalLong.of(Long.parseUnsignedLong(lower.substring(2), 16));
            }
            if (!lower.isEmpty() && Character.isDigit(lower.charAt(0))) {
                return OptionalLong.of(Long.parseUnsignedLong(lower));
            }
            return OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
