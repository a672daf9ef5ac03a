package dev.kemu.debug.svg;

import dev.kemu.kernel.mm.FrameType;

/**
 * What one frame is drawn as: its type, a finer owner within it (the slab's cache, the page table's
 * level; empty when none), the legend label and the fill colour.
 */
record FrameClass(FrameType type, String owner, String label, String fill) {
    /** The CSS classes of a run of such frames: {@code frame frame-slab owner-kmalloc-64}. */
    String classes() {
        String type = "frame frame-" + type().name().toLowerCase().replace('_', '-');
        return owner.isEmpty() ? type : type + " owner-" + owner.replaceAll("[^A-Za-z0-9_-]", "_");
    }
}
