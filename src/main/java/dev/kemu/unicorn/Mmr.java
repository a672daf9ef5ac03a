package dev.kemu.unicorn;

/**
 * A memory-management register ({@code uc_x86_mmr}): GDTR and IDTR use base and limit;
 * LDTR and TR also have a selector and descriptor flags.
 */
public record Mmr(int selector, long base, int limit, int flags) {
    /** Size of {@code uc_x86_mmr}: u16 selector, u64 base at 8, u32 limit at 16, u32 flags at 20. */
    static final long SIZE = 24;
}
