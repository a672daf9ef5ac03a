package dev.kemu.machine;

/**
 * The device behind each of the 65,536 I/O ports, in 256 pages of 256 ports made when a claim first
 * needs one. A flat array is 256 KiB per machine, zeroed for every new machine (a boot claims a few
 * dozen ports, so a handful of pages); a lookup is two array loads, with no search.
 */
final class PortTable {
    static final int PORTS = 0x10000;
    private static final int PAGE_BITS = 8;
    private static final int PAGE_MASK = (1 << PAGE_BITS) - 1;

    private final PortDevice[][] pages = new PortDevice[PORTS >>> PAGE_BITS][];

    /** The device behind {@code port} (taken modulo 65,536), or null. */
    PortDevice get(int port) {
        PortDevice[] page = pages[(port & 0xffff) >>> PAGE_BITS];
        return page == null ? null : page[port & PAGE_MASK];
    }

    /** Puts {@code device} (null: none) behind {@code [first, first + count)}, inside the I/O space. */
    void fill(int first, int count, PortDevice device) {
        for (int port = first; port < first + count; port++) {
            PortDevice[] page = pages[port >>> PAGE_BITS];
            if (page == null) {
                if (device == null) {
                    port |= PAGE_MASK; // nothing claimed in this page: skip to the next one
                    continue;
                }
                page = pages[port >>> PAGE_BITS] = new PortDevice[1 << PAGE_BITS];
            }
            page[port & PAGE_MASK] = device;
        }
    }
}
