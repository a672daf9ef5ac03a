package dev.kemu.kernel.slab;

import java.util.List;
import java.util.Locale;

/**
 * Which slab debug modes new caches get, from Linux's {@code slub_debug=} syntax: letters, then
 * optionally a comma-separated list of cache names the letters apply to (all caches without one).
 * F consistency checks on alloc and free, Z red zones, P poisoning, U alloc/free tracking.
 * The modes a cache got are stored in its descriptor ({@link CacheLayout#FLAGS}), in guest RAM.
 */
public record SlubDebug(int flags, List<String> caches) {
    public static final int CONSISTENCY = 0x100, RED_ZONE = 0x200, POISON = 0x400, TRACK = 0x800;
    public static final int ALL = CONSISTENCY | RED_ZONE | POISON | TRACK;
    public static final SlubDebug OFF = new SlubDebug(0, List.of());

    public SlubDebug {
        caches = List.copyOf(caches);
    }

    /**
     * Parses {@code FZPU}, {@code FZPU,kmalloc-32,kmalloc-64}, or {@code -} (off); the letters are
     * case-insensitive as in Linux. Throws {@link IllegalArgumentException} naming the bad part.
     */
    public static SlubDebug parse(String text) {
        String[] parts = text.split(",", -1);
        String letters = parts[0];
        int flags = 0;
        if (!letters.equals("-")) {
            if (letters.isEmpty()) {
                throw new IllegalArgumentException("--slub-debug '" + text + "': no mode letters; use some of F, Z, P, U"
                        + " (e.g. FZPU or FZPU,kmalloc-32)");
            }
            for (char c : letters.toUpperCase(Locale.ROOT).toCharArray()) {
                flags |= switch (c) {
                    case 'F' -> CONSISTENCY;
                    case 'Z' -> RED_ZONE;
                    case 'P' -> POISON;
                    case 'U' -> TRACK;
                    default -> throw new IllegalArgumentException("--slub-debug '" + text + "': unknown mode '" + c
                            + "'; kemu knows F (consistency checks), Z (red zones), P (poisoning), U (alloc/free sites)");
                };
            }
        }
        List<String> names = List.of(parts).subList(1, parts.length);
        for (String name : names) {
            if (name.isEmpty() || name.length() > CacheLayout.NAME_MAX) {
                throw new IllegalArgumentException("--slub-debug '" + text + "': cache name '" + name
                        + "' is empty or longer than " + CacheLayout.NAME_MAX + " characters");
            }
        }
        return new SlubDebug(flags, names);
    }

    /** The debug flag bits a new cache called {@code name} gets. */
    public int flagsFor(String name) {
        return caches.isEmpty() || caches.contains(name) ? flags : 0;
    }

    /** The letters of {@code flags} (the debug bits of a descriptor), as slub_debug spells them. */
    public static String letters(int flags) {
        StringBuilder s = new StringBuilder();
        if ((flags & CONSISTENCY) != 0) s.append('F');
        if ((flags & RED_ZONE) != 0) s.append('Z');
        if ((flags & POISON) != 0) s.append('P');
        if ((flags & TRACK) != 0) s.append('U');
        return s.toString();
    }
}
