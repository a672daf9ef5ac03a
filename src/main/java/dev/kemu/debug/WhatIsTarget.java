package dev.kemu.debug;

import dev.kemu.elf.AddressExpression;
import dev.kemu.elf.SymbolTable;

/**
 * The address {@code kemu whatis} is asked about: {@code P0x...} is physical, {@code V0x...}, plain hex,
 * decimal and symbols ({@code kmain+0x10}) are virtual, as the fault report writes them.
 */
public record WhatIsTarget(long address, boolean physical) {

    public static WhatIsTarget parse(String text, SymbolTable symbols, String imageName) {
        String t = text.strip();
        if (t.length() > 1 && (t.charAt(0) == 'P' || t.charAt(0) == 'p' || t.charAt(0) == 'V' || t.charAt(0) == 'v')
                && t.substring(1).toLowerCase().startsWith("0x")) {
            boolean physical = Character.toUpperCase(t.charAt(0)) == 'P';
            try {
                return new WhatIsTarget(Long.parseUnsignedLong(t.substring(3).replace("_", ""), 16), physical);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an address: '" + text + "' (after " + t.substring(0, 3)
                        + " come up to 16 hex digits, e.g. P0x201000 for a physical or V0xffff800000201000 for a virtual address)");
            }
        }
        return new WhatIsTarget(AddressExpression.parse(t).resolve(symbols, imageName), false);
    }

    @Override
    public String toString() {
        return String.format("%s0x%x", physical ? "P" : "V", address);
    }
}
