package dev.kemu.debug.leaks;

/**
 * Whether a value equal to the physical address of a tracked object's bytes references it. kmemleak
 * looks values up as virtual addresses only: sizes, counts and frame numbers are small integers, and
 * with RAM from 0 every one of them would be some frame's physical address and hide leaks. Code that
 * keeps objects by physical address (a DMA descriptor, a page-table entry built by hand) asks for COUNTED.
 */
public enum PhysicalAliases {
    IGNORED,
    COUNTED
}
