package dev.kemu.testing;

import dev.kemu.kernel.KernelServices;
import dev.kemu.kernel.slab.SlubDebug;

/**
 * The memory debug modes a test machine boots with ({@link MemoryDebug}); part of the key the extension keeps
 * machines under, because the modes are fixed at HC_MM_INIT, before the snapshot.
 *
 * @param slub   the {@code --slub-debug} modes, {@link SlubDebug#OFF} when off
 * @param kasan  {@code --kasan}
 * @param chosen whether a {@link MemoryDebug} annotation chose them; without one, a suite-wide
 *               {@code -Dkemu.memoryDebug} ({@link dev.kemu.kernel.SuiteMemoryDebug}) applies instead
 */
public record MemoryModes(SlubDebug slub, boolean kasan, boolean chosen) {
    /** No annotation: no modes, unless the suite runs with {@code -Dkemu.memoryDebug}. */
    public static final MemoryModes NONE = new MemoryModes(SlubDebug.OFF, false, false);

    /** The modes of {@code annotation}; a bad {@code slub} value is refused naming the annotation and the value. */
    static MemoryModes of(MemoryDebug annotation, Class<?> on) {
        String slub = annotation.slub().trim();
        try {
            return new MemoryModes(slub.isEmpty() ? SlubDebug.OFF : SlubDebug.parse(slub), annotation.kasan(), true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("@MemoryDebug(slub = \"" + annotation.slub() + "\") on "
                    + on.getName() + ": " + e.getMessage(), e);
        }
    }

    public boolean any() {
        return slub.flags() != 0 || kasan;
    }

    /** Chooses the modes on a kernel that has not yet run HC_MM_INIT. */
    void applyTo(KernelServices services) {
        if (!chosen) {
            return;
        }
        services.slubDebug(slub);
        services.kasan(kasan);
    }

    @Override
    public String toString() {
        return any() ? "slub_debug=" + (slub.flags() == 0 ? "-" : SlubDebug.letters(slub.flags()))
                + (slub.caches().isEmpty() ? "" : "," + String.join(",", slub.caches())) + (kasan ? " kasan" : "")
                : "no memory debug modes";
    }
}
