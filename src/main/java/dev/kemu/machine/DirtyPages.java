package dev.kemu.machine;

import java.util.BitSet;
import java.util.function.LongConsumer;

/**
 * The 4 KiB pages of guest RAM written since the last {@link #clear()}, by physical page number,
 * and whether that set is known to be complete.
 *
 * <p>Host writes arrive with their exact range. Guest stores arrive from Unicorn's write hook,
 * which libunicorn 2.1.4 calls with the <em>physical</em> address of the store (its
 * {@code store_helper} passes {@code entry->paddr | offset}; upstream pull request 1836; a
 * libunicorn that passes the virtual one is detected at start-up and translated, see
 * {@code WriteHookAddress}), so no translation is needed, but the hook is not enough in three cases, which make the set
 * {@linkplain #complete() incomplete} instead of silently wrong:
 * <ul>
 *   <li>a store split over two pages: the hook gets the first page's physical address and the
 *       whole size; the second physical page is not necessarily the next one;</li>
 *   <li>a misaligned store: Unicorn performs it byte by byte with the hook disabled
 *       ({@code size_recur_mem}); if one of those bytes hits the running translated block, the
 *       longjmp of the self-modifying-code path leaves the hook disabled for the rest of the run;</li>
 *   <li>a guest store into a {@linkplain #watch watched} page (the page tables): the MMU may then
 *       set accessed/dirty bits in tables the hook never sees.</li>
 * </ul>
 * Guest stores into page tables the host created since the snapshot are found by {@link Snapshot}
 * with {@link #storedByGuest}.
 *
 * <p>Write-protecting guest RAM at the host level instead (userfaultfd with
 * {@code UFFD_FEATURE_WP_ASYNC} and {@code PAGEMAP_SCAN}, Linux 6.7+) would catch every writer by
 * construction, but measured here it costs about 15 us for the first write to each page and
 * 15-40 us per scan of 64 MiB, against a 2-3 us reset: too slow for a per-test reset.
 */
public final class DirtyPages {
    private static final int PAGE_SHIFT = 12;
    private static final long PAGE_MASK = (1L << PAGE_SHIFT) - 1;

    private final long pages;
    private final BitSet dirty;
    private final BitSet storedByGuest;
    private final BitSet watched = new BitSet();
    private boolean complete = true;
    /** The snapshot the set is relative to (the last one taken or restored); the others must compare all of RAM. */
    Object relativeTo;

    public DirtyPages(long ramBytes) {
        pages = ramBytes >>> PAGE_SHIFT;
        if (pages > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("guest RAM of " + ramBytes + " bytes has more 4 KiB pages than dirty"
                    + " tracking can index (" + Integer.MAX_VALUE + "); use at most 8 TiB");
        }
        dirty = new BitSet((int) pages);
        storedByGuest = new BitSet((int) pages);
    }

    /** A host write of {@code length} bytes at {@code physical}: every page it touches. */
    public void mark(long physical, long length) {
        if (length <= 0 || physical < 0) {
            return;
        }
        long first = physical >>> PAGE_SHIFT;
        long last = Math.min((physical + length - 1) >>> PAGE_SHIFT, pages - 1);
        if (first == last) {
            dirty.set((int) first); // the common case: one page
        } else if (first < last) {
            dirty.set((int) first, (int) last + 1);
        }
    }

    /** A guest store as Unicorn's write hook reports it: its physical address and size in bytes. */
    public void markGuestStore(long physical, int size) {
        long page = physical >>> PAGE_SHIFT;
        if (page >= pages) {
            return; // a memory-mapped device's range, not guest RAM (its page number may not even fit an int)
        }
        dirty.set((int) page);
        storedByGuest.set((int) page);
        if ((physical & PAGE_MASK) + size > PAGE_MASK + 1 || (physical & (size - 1)) != 0 || watched.get((int) page)) {
            complete = false;
        }
    }

    /** A guest store whose physical page is unknown: the set is incomplete until the next {@link #clear()}. */
    public void markUntraceable() {
        complete = false;
    }

    /** Guest stores into {@code page} (a physical page number) make the set incomplete from now on. */
    public void watch(long page) {
        if (page >= 0 && page < pages) {
            watched.set((int) page);
        }
    }

    /** Whether every written page is in the set; if not, a restore must compare all of RAM. */
    public boolean complete() {
        return complete;
    }

    public boolean isDirty(long page) {
        return page >= 0 && page < pages && dirty.get((int) page);
    }

    /** Whether a guest store (not only the host) wrote {@code page} since the last {@link #clear()}. */
    public boolean storedByGuest(long page) {
        return page >= 0 && page < pages && storedByGuest.get((int) page);
    }

    /** Calls {@code action} with each dirty page number, in order. */
    public void forEach(LongConsumer action) {
        for (int page = dirty.nextSetBit(0); page >= 0; page = dirty.nextSetBit(page + 1)) {
            action.accept(page);
        }
    }

    public long count() {
        return dirty.cardinality();
    }

    /** Forgets all written pages (the watched ones stay watched) and makes the set complete again. */
    public void clear() {
        dirty.clear();
        storedByGuest.clear();
        complete = true;
    }

    /** Stops watching every page. */
    public void unwatchAll() {
        watched.clear();
    }
}
