package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random kmalloc/kfree sequences under --slub-debug=FZPU against a reference model (live objects
 * and the bytes written into them): writes within the requested size raise no report, the
 * contents survive other objects' alloc/free/poisoning, SlabChecker stays clean, and validation finds nothing.
 */
class SlubDebugModelTest {
    record Op(boolean alloc, int size, int pick, byte fill) {}

    record Live(VirtAddr address, byte[] contents) {}

    @Provide
    Arbitrary<List<Op>> operations() {
        return Arbitraries.integers().between(0, 99).flatMap(kind -> Arbitraries.integers().between(1, 2048).flatMap(size ->
                Arbitraries.integers().between(0, 1000).flatMap(pick -> Arbitraries.bytes().map(fill ->
                        new Op(kind < 60, size, pick, fill))))).list().ofMinSize(1).ofMaxSize(200);
    }

    @Property(tries = 60)
    void randomSequencesKeepContentsAndMetadataAndRaiseNoReport(@ForAll("operations") List<Op> ops) {
        try (SlubFixture f = new SlubFixture("FZPU")) {
            List<Live> live = new ArrayList<>();
            for (Op op : ops) {
                if (op.alloc() || live.isEmpty()) {
                    VirtAddr object = f.kmalloc(op.size(), 0xffff_ffff_8010_0000L);
                    byte[] contents = new byte[op.size()];
                    Arrays.fill(contents, op.fill());
                    contents[0] = (byte) live.size();
                    f.ram.write(f.phys(object), contents);
                    live.add(new Live(object, contents));
                } else {
                    Live victim = live.remove(op.pick() % live.size());
                    assertEquals(FreeResult.FREED, f.kfree(victim.address(), 0xffff_ffff_8010_0100L));
                }
                assertEquals(List.of(), f.reports);
            }
            for (Live object : live) {
                assertArrayEquals(object.contents(), f.ram.read(f.phys(object.address()), object.contents().length));
            }
            assertEquals(List.of(), SlabChecker.check(f.memory.root()));
            assertEquals(0, f.memory.slabs().validateDebugCaches(), () -> f.reports.toString());
        }
    }
}
