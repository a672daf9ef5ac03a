package dev.kemu.machine;

import dev.kemu.unicorn.HookType;
import dev.kemu.unicorn.Unicorn;

/**
 * Wires {@link DirtyPages} to the two ways guest RAM changes: guest stores through a write hook,
 * host writes through {@link GuestRam}. Nothing is hooked until the first caller asks for the
 * set, so a machine that never snapshots pays nothing per store. Whether the hook gets the
 * physical or the virtual address of a store is calibrated for the loaded libunicorn
 * ({@link WriteHookAddress}); a virtual one is translated through the current page tables.
 */
final class DirtyPageTracking {
    private final Unicorn engine;
    private final GuestRam ram;
    private DirtyPages pages;
    private VirtualMemoryView translator;

    DirtyPageTracking(Unicorn engine, GuestRam ram) {
        this.engine = engine;
        this.ram = ram;
    }

    /** The pages written since the first call; starts tracking on that call. */
    DirtyPages pages() {
        if (pages == null) {
            pages = new DirtyPages(ram.size());
            ram.trackWrites(pages);
            if (WriteHookAddress.get() == WriteHookAddress.PHYSICAL) {
                engine.hookMem(HookType.MEM_WRITE, 1, 0, this::onGuestWrite);
            } else {
                translator = new VirtualMemoryView(engine, ram, new PageWalker(ram));
                engine.hookMem(HookType.MEM_WRITE, 1, 0, this::onVirtualGuestWrite);
            }
        }
        return pages;
    }

    /** libunicorn 2.1.4 passes the physical address here on every path (see WriteHookAddressTest). */
    private void onGuestWrite(Unicorn uc, int type, long physical, int size, long value) {
        pages.markGuestStore(physical, size);
    }

    /** A libunicorn that reports virtual addresses: translate with the tables the store went through. */
    private void onVirtualGuestWrite(Unicorn uc, int type, long virtual, int size, long value) {
        long physical = translator.physical(virtual);
        if (physical < 0) {
            pages.markUntraceable(); // not RAM (a device) or no longer mapped: only a full compare is safe
        } else {
            pages.markGuestStore(physical, size);
        }
    }
}
