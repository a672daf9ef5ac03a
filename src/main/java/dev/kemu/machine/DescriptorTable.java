package dev.kemu.machine;

/** GDTR or IDTR: the table's linear base address and its limit (size - 1). */
public record DescriptorTable(long base, int limit) {
}
