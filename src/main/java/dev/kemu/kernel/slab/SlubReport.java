package dev.kemu.kernel.slab;

import java.util.List;

/**
 * One slab debug finding in Linux's fixed shape (mm/slub.c's slab_bug, print_trailer,
 * check_bytes_and_report): the banner names the cache and the reason, then INFO lines and the
 * labelled hex dump of the object's slot, then the FIX line saying what kemu restored.
 */
public record SlubReport(String cache, String reason, long object, List<String> lines) {
    public SlubReport {
        lines = List.copyOf(lines);
    }

    public String text() {
        return String.join("\n", lines) + "\n";
    }

    @Override
    public String toString() {
        return text();
    }
}
