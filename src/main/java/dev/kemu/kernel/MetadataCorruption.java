package dev.kemu.kernel;

/**
 * A hypercall that stopped because kernel metadata in guest RAM was broken (a
 * {@link dev.kemu.kernel.mm.KernelPanic}): the guest can write the direct map, so corrupted
 * metadata is a finding about the guest, not a host crash. {@code facts} is the panic's
 * sentence (which structure, at which address, what it held and what was expected).
 */
public record MetadataCorruption(String call, String facts, long rip, String ripSymbol) {
    @Override
    public String toString() {
        return String.format("%s from %s (RIP 0x%x) found corrupted kernel metadata: %s", call, ripSymbol, rip, facts);
    }
}
