package dev.kemu.kernel;

import dev.kemu.kernel.mm.FreeResult;

/** A free the services refused: which call, the address, why, and the guest RIP (symbolized) that made it. */
public record InvalidFree(String call, long address, FreeResult result, long rip, String ripSymbol) {
    @Override
    public String toString() {
        return String.format("%s(V0x%x) from %s (RIP 0x%x): %s", call, address, ripSymbol, rip, result.reason());
    }
}
