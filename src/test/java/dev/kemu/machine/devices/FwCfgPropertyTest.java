package dev.kemu.machine.devices;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * fw_cfg against a reference model of QEMU's semantics (docs/specs/fw_cfg.rst): a 16-bit write to the selector
 * picks an item and rewinds it; every 8-bit read returns the item's next byte or 0 past its end; 8-bit
 * writes and other widths change nothing.
 */
class FwCfgPropertyTest {
    private static final long RAM = 0x1234_5000L;
    private static final int CPUS = 3;
    /** The items, byte by byte, written out here independently of the device. */
    private static final Map<Integer, byte[]> ITEMS = Map.of(
            0x00, "QEMU".getBytes(StandardCharsets.US_ASCII),
            0x01, new byte[]{1, 0, 0, 0},
            0x03, new byte[]{0x00, 0x50, 0x34, 0x12, 0, 0, 0, 0},
            0x05, new byte[]{CPUS, 0},
            0x0f, new byte[]{CPUS, 0},
            0x19, new byte[]{0, 0, 0, 0});

    /** kind: 0 select (16-bit), 1 read (8-bit, either port), 2 data write (8-bit), 3 wide read, 4 wide write. */
    record Op(int kind, int key, int port, int size) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 4),
                Arbitraries.of(0x00, 0x01, 0x02, 0x03, 0x05, 0x0f, 0x19, 0x4000, 0x4005, 0x8000, 0x8003, 0x7ff),
                Arbitraries.of(FwCfg.SELECTOR_PORT, FwCfg.DATA_PORT), Arbitraries.of(2, 4)).as(Op::new);
        return op.list().ofMaxSize(60);
    }

    @Property(tries = 400)
    void everyAccess_followsTheReferenceModel(@ForAll("operations") List<Op> ops) {
        FwCfg device = new FwCfg(RAM, CPUS);
        byte[] item = new byte[0];
        int offset = 0;
        for (Op op : ops) {
            switch (op.kind()) {
                case 0 -> {
                    device.write(null, FwCfg.SELECTOR_PORT, 2, op.key());
                    // bit 14 (write channel) ignored; bit 15: the architecture's items, none here
                    item = (op.key() & 0x8000) != 0 ? new byte[0] : ITEMS.getOrDefault(op.key() & 0x3fff, new byte[0]);
                    offset = 0;
                }
                case 1 -> {
                    int expected = offset < item.length ? item[offset++] & 0xff : 0;
                    assertEquals(expected, device.read(null, op.port(), 1), () -> "read after " + ops);
                }
                case 2 -> device.write(null, op.port(), 1, op.key());
                case 3 -> assertEquals(-1, device.read(null, op.port(), op.size()));
                default -> device.write(null, FwCfg.DATA_PORT, op.size(), op.key()); // not a select: 0x511 or 4 bytes
            }
        }
    }
}
