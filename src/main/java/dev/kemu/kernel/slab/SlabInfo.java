package dev.kemu.kernel.slab;

import java.util.List;

/** One row of a {@code /proc/slabinfo}-style table. */
public record SlabInfo(String name, long activeObjects, long totalObjects, int objectSize, int objectsPerSlab,
                       int pagesPerSlab, int activeSlabs, int slabs) {

    public static final String HEADER = String.format("%-20s %10s %10s %8s %8s %8s %8s %8s", "# name", "active_objs",
            "num_objs", "objsize", "objperslab", "pagesperslab", "active_slabs", "num_slabs");

    public String line() {
        return String.format("%-20s %10d %10d %8d %8d %8d %8d %8d", name, activeObjects, totalObjects, objectSize,
                objectsPerSlab, pagesPerSlab, activeSlabs, slabs);
    }

    public static String table(List<SlabInfo> rows) {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        rows.forEach(r -> text.append(r.line()).append('\n'));
        return text.toString();
    }
}
