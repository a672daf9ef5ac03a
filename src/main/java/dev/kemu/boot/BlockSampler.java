package dev.kemu.boot;

import dev.kemu.machine.Machine;

import java.util.HashSet;
import java.util.Set;

/**
 * One block hook over an address range, and the pages of the blocks it has seen: what Unicorn
 * invalidates when the hook is removed. Removing it during a run is only safe while all of them
 * are mapped: Unicorn finds a block to invalidate through the guest's current page tables, and a
 * block on a page the kernel has since unmapped (boot code in a dropped identity map) faults
 * inside Unicorn and ends the run. So {@link #retire()} removes the hook at once when every page
 * still translates, and otherwise only silences it until {@link #close()} after the run.
 */
final class BlockSampler implements AutoCloseable {
    private static final int PAGE_SHIFT = 12;
    private final Machine machine;
    private final Machine.BlockListener listener;
    private final Set<Long> pages = new HashSet<>();
    private Machine.Subscription hook;
    private boolean listening = true;
    private long lastPage = -1;

    /** Samples blocks starting in {@code [begin, end]} (inclusive, unsigned). */
    BlockSampler(Machine machine, long begin, long end, Machine.BlockListener listener) {
        this.machine = machine;
        this.listener = listener;
        this.hook = machine.onBlock(begin, end, this::onBlock);
    }

    private void onBlock(long address, int size) {
        if (!listening) {
            return;
        }
        long first = address >>> PAGE_SHIFT, last = (address + Math.max(size, 1) - 1) >>> PAGE_SHIFT;
        if (first != lastPage) {
            pages.add(first);
            lastPage = first;
        }
        if (last != first) {
            pages.add(last);
        }
        listener.onBlock(address, size);
    }

    /** Stops listening; removes the hook now if that is safe (see the class comment), else at {@link #close()}. */
    void retire() {
        listening = false;
        if (hook != null && pages.stream().allMatch(page -> machine.physical(page << PAGE_SHIFT) >= 0)) {
            close();
        }
    }

    /** Whether the native hook is gone (so its blocks no longer pay an upcall). */
    boolean removed() {
        return hook == null;
    }

    @Override
    public void close() {
        listening = false;
        if (hook != null) {
            Machine.Subscription removing = hook;
            hook = null;
            removing.close();
        }
    }
}
