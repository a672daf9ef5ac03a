package dev.kemu.kernel.mm;

import static dev.kemu.kernel.mm.MmLayout.MAX_NODES;
import static dev.kemu.kernel.mm.MmLayout.MAX_ORDER;

/**
 * Numbering of the buddy allocator's free lists: one per node, zone and order, as Linux keeps a
 * {@code free_area[order]} in each {@code struct zone} of each {@code pg_data_t}. The index is where
 * the list's head and count sit in the mm root's arrays ({@link MmLayout}).
 */
public final class FreeLists {
    public static final int ORDERS = MAX_ORDER + 1;
    public static final int ZONES = Zone.values().length;
    public static final int COUNT = MAX_NODES * ZONES * ORDERS;

    private FreeLists() {}

    public static int index(int node, Zone zone, int order) {
        return (node * ZONES + zone.ordinal()) * ORDERS + order;
    }

    public static int order(int list) {
        return list % ORDERS;
    }

    public static Zone zone(int list) {
        return Zone.ALL[list / ORDERS % ZONES];
    }

    public static int node(int list) {
        return list / (ORDERS * ZONES);
    }

    /** How a report names a list: {@code node 1 DMA32 order 3}. */
    public static String name(int list) {
        return "node " + node(list) + " " + zone(list).label() + " order " + order(list);
    }
}
