package dev.kemu.machine;

import dev.kemu.unicorn.HookType;
import dev.kemu.unicorn.Unicorn;

/**
 * Wires {@link DirtyPages} to the two ways guest RAM changes: guest stores through a write hook,
 * host writes through {@link GuestRam}. Nothing is hooked until the first caller asks for the
 * set, so a machine that never snapshots pays nothing per store.
 */
final class DirtyPageTracking {
    private final Unicorn engine;
    private final GuestRam ram;
    private DirtyPages pages;

    DirtyPageTracking(Unicorn engine, GuestRam ram) {
        this.engine = engine;
        this.ram = ram;
    }

    /** The pages written since the first call; starts tracking on that call. */
    DirtyPages pages() {
        if (pages == null) {
            pages = new DirtyPages(ram.size());
            ram.trackWrites(pages);
            engine.hookMem(HookType.MEM_WRITE, 1, 0, this::onGuestWrite);
        }
        return pages;
    }

    /** libunicorn 2.1.4 passes the physical address here on every path (see WriteHookAddressTest). */
    private void onGuestWrite(Unicorn uc, int type, long physical, int size, long value) {
        pages.markGuestStore(physical, size);
    }
}
