package dev.kemu.machine;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The paged port table answers exactly as a flat array of 65,536 entries would. */
class PortTableTest {
    private static final PortDevice[] DEVICES = {null, device(), device(), device()};

    private static PortDevice device() {
        return new PortDevice() {
            @Override
            public void write(Machine machine, int port, int size, int value) {}

            @Override
            public int read(Machine machine, int port, int size) {
                return 0;
            }
        };
    }

    @Property(tries = 200)
    void matchesAFlatArray(@ForAll @Size(max = 12) List<@IntRange(max = 0xffff) Integer> firsts,
                           @ForAll @Size(max = 12) List<@IntRange(min = 1, max = 700) Integer> counts,
                           @ForAll @Size(max = 12) List<@IntRange(max = 3) Integer> devices) {
        PortTable table = new PortTable();
        PortDevice[] reference = new PortDevice[PortTable.PORTS];
        int fills = Math.min(firsts.size(), Math.min(counts.size(), devices.size()));
        for (int i = 0; i < fills; i++) {
            int first = firsts.get(i), count = Math.min(counts.get(i), PortTable.PORTS - first);
            PortDevice device = DEVICES[devices.get(i)];
            table.fill(first, count, device);
            java.util.Arrays.fill(reference, first, first + count, device);
        }
        for (int port = 0; port < PortTable.PORTS; port++) {
            assertSame(reference[port], table.get(port), "port 0x" + Integer.toHexString(port));
        }
    }

    @Test
    void aPortAboveTheIoSpaceWrapsAsTheBusDoes() {
        PortTable table = new PortTable();
        table.fill(0xfffe, 2, DEVICES[1]);
        table.fill(0, 1, DEVICES[2]);
        assertSame(DEVICES[1], table.get(0x1ffff));
        assertSame(DEVICES[2], table.get(0x10000));
        assertNull(table.get(0x10001));
    }

    @Test
    void clearingAPageNeverClaimedLeavesItEmpty() {
        PortTable table = new PortTable();
        table.fill(0x3f8, 8, DEVICES[1]);
        table.fill(0, PortTable.PORTS, null);
        for (int port = 0; port < PortTable.PORTS; port++) {
            assertNull(table.get(port));
        }
    }
}
