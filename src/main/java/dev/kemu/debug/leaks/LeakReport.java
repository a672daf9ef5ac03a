package dev.kemu.debug.leaks;

import dev.kemu.machine.GuestRam;

import java.util.List;

/**
 * The scan's verdict: the unreferenced objects, each in kmemleak's shape (address and size, owner,
 * a hex dump of the first bytes, the allocation site), out of how many were tracked.
 */
public record LeakReport(List<TrackedObject> leaks, int tracked, GuestRam ram, AllocationSites sites) {
    /** kmemleak dumps the first 32 bytes. */
    static final int DUMP_BYTES = 32;

    public LeakReport {
        leaks = List.copyOf(leaks);
    }

    public boolean isEmpty() {
        return leaks.isEmpty();
    }

    public String text() {
        StringBuilder text = new StringBuilder(String.format("kmemleak: %d new suspected memory leak%s (%d objects tracked)%n",
                leaks.size(), leaks.size() == 1 ? "" : "s", tracked));
        leaks.forEach(leak -> text.append(entry(leak)));
        return text.toString();
    }

    /** One leak: "unreferenced object V0x... (size N):", then owner, hex dump and allocation site. */
    public String entry(TrackedObject leak) {
        StringBuilder text = new StringBuilder(String.format("unreferenced object %s (size %d):%n", leak.address(),
                leak.size()));
        text.append(String.format("  %s: %s, first byte at P0x%x%n", leak.kind().name().toLowerCase(), leak.owner(),
                leak.firstPhysical()));
        int dumped = (int) Math.min(DUMP_BYTES, leak.size());
        text.append(String.format("  hex dump (first %d bytes):%n", dumped));
        byte[] bytes = ram.read(leak.firstPhysical(), dumped);
        for (int row = 0; row < bytes.length; row += 16) {
            StringBuilder hex = new StringBuilder();
            StringBuilder ascii = new StringBuilder();
            for (int i = row; i < Math.min(row + 16, bytes.length); i++) {
                hex.append(String.format("%02x ", bytes[i] & 0xff));
                ascii.append(bytes[i] >= 0x20 && bytes[i] < 0x7f ? (char) bytes[i] : '.');
            }
            text.append(String.format("    %-48s %s%n", hex, ascii));
        }
        text.append("  allocated at: ").append(sites.siteOf(leak).orElse(AllocationSites.NOT_RECORDED_TEXT)).append('\n');
        return text.toString();
    }
}
