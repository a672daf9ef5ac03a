package dev.kemu.kernel;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.AddressSpaces;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.SpaceFault.Resolution;
import dev.kemu.kernel.mm.SpaceResult;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class AddressSpacesTest {
    static final long BASE = 0x40_0000;
    static final long RW_USER = PageTableEntry.WRITABLE | PageTableEntry.USER;

    /** Every test's kernel memory, its address spaces and a CPU making user accesses through them. */
    private MmFixture mm;
    private AddressSpaces spaces;
    private UserAccess cpu;

    @BeforeEach
    void boot() {
        mm = new MmFixture();
        spaces = mm.memory.spaces();
        cpu = new UserAccess(spaces, mm.ram);
    }

    @AfterEach
    void close() {
        mm.close();
    }

    private AddressSpace spaceWithVma(long pages) {
        AddressSpace space = spaces.create().orElseThrow();
        assertEquals(SpaceResult.OK, spaces.map(space, VirtAddr.of(BASE), pages * 4096, RW_USER));
        return space;
    }

    /** The frame state once the one-time pieces (descriptor cache, vmalloc PDPT, zero page) exist. */
    private List<String> baseline() {
        AddressSpace warmup = spaceWithVma(1);
        new UserAccess(spaces, mm.ram).read(warmup, BASE);
        assertEquals(SpaceResult.OK, spaces.destroy(warmup));
        return mm.frameState();
    }

    @Test
    void create_sharesTheKernelHalf_andLeavesTheUserHalfEmpty() {
        AddressSpace space = spaces.create().orElseThrow();
        long kernel = mm.root().pml4().value(), mine = space.pml4().value();
        for (int i = 0; i < 512; i++) {
            long expected = i >= 256 ? mm.ram.read64(kernel + i * 8L) : 0;
            assertEquals(expected, mm.ram.read64(mine + i * 8L), "PML4 entry " + i);
        }
        assertEquals(Optional.of(space), spaces.find(space.pml4()));
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void destroy_afterTouchingPages_returnsEveryFrameAndTable() {
        List<String> before = baseline();
        AddressSpace space = spaceWithVma(600); // crosses a page-table boundary
        for (int page = 0; page < 600; page += 7) {
            assertTrue(cpu.write(space, BASE + page * 4096L, page));
        }
        assertEquals(List.of(), mm.memory.check());

        assertEquals(SpaceResult.OK, spaces.destroy(space));

        assertEquals(before, mm.frameState());
        assertEquals(List.of(), spaces.all());
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void readOfUntouchedPage_mapsTheZeroPageReadOnly_untilTheFirstWrite() {
        AddressSpace space = spaceWithVma(2);

        assertEquals(Optional.of(0), cpu.read(space, BASE + 8));
        assertEquals(Optional.of(0), cpu.read(space, BASE + 4096));
        PhysAddr first = spaces.translate(space, VirtAddr.of(BASE)).orElseThrow();
        PhysAddr second = spaces.translate(space, VirtAddr.of(BASE + 4096)).orElseThrow();
        assertEquals(first, second, "both pages map the one zero page");
        assertEquals(FrameType.ZERO_PAGE, FrameTable.of(mm.root()).type(first.value() / 4096));
        assertFalse(spaces.tables(space).leaf(VirtAddr.of(BASE)).orElseThrow().writable());

        assertTrue(cpu.write(space, BASE + 8, 0x5a));

        assertEquals(List.of(Resolution.ZERO_PAGE_MAPPED, Resolution.ZERO_PAGE_MAPPED, Resolution.ZERO_FILLED), cpu.faults);
        assertNotEquals(first, spaces.translate(space, VirtAddr.of(BASE)).orElseThrow());
        assertEquals(0, mm.ram.read8(first.value() + 8), "the zero page stays zero");
        assertEquals(0x5a, cpu.peek(space, BASE + 8));
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void clone_sharesPagesReadOnly_andAWriteInTheChildIsNotSeenByTheParent() {
        AddressSpace parent = spaceWithVma(4);
        assertTrue(cpu.write(parent, BASE, 1));
        PhysAddr frame = spaces.translate(parent, VirtAddr.of(BASE)).orElseThrow();

        AddressSpace child = spaces.clone(parent).orElseThrow();

        assertEquals(frame, spaces.translate(child, VirtAddr.of(BASE)).orElseThrow(), "shared after the clone");
        assertEquals(2, FrameTable.of(mm.root()).tag(frame.value() / 4096), "reference count");
        assertFalse(spaces.tables(parent).leaf(VirtAddr.of(BASE)).orElseThrow().writable());
        assertTrue(spaces.vmas(parent).getFirst().copyOnWrite());
        assertTrue(spaces.vmas(child).getFirst().copyOnWrite());
        assertEquals(List.of(), mm.memory.check());

        assertTrue(cpu.write(child, BASE, 2));
        assertTrue(cpu.write(parent, BASE, 3));

        assertEquals(List.of(Resolution.ZERO_FILLED, Resolution.COPIED, Resolution.REUSED), cpu.faults);
        assertEquals(3, cpu.peek(parent, BASE));
        assertEquals(2, cpu.peek(child, BASE));
        assertEquals(frame, spaces.translate(parent, VirtAddr.of(BASE)).orElseThrow(), "the parent took its frame back");
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void destroyingTheParent_leavesTheChildsSharedPagesIntact() {
        List<String> before = baseline();
        AddressSpace parent = spaceWithVma(3);
        for (int page = 0; page < 3; page++) {
            assertTrue(cpu.write(parent, BASE + page * 4096L, 10 + page));
        }
        AddressSpace child = spaces.clone(parent).orElseThrow();

        assertEquals(SpaceResult.OK, spaces.destroy(parent));

        assertEquals(List.of(), mm.memory.check());
        for (int page = 0; page < 3; page++) {
            assertEquals(10 + page, cpu.peek(child, BASE + page * 4096L));
        }
        assertTrue(cpu.write(child, BASE, 99));
        assertEquals(Resolution.REUSED, cpu.faults.getLast(), "the last reference takes the frame over");
        assertEquals(SpaceResult.OK, spaces.destroy(child));
        assertEquals(before, mm.frameState());
    }

    @Test
    void unmapOfTheMiddle_splitsTheVma_andFreesOnlyThosePages() {
        AddressSpace space = spaceWithVma(4);
        for (int page = 0; page < 4; page++) {
            cpu.write(space, BASE + page * 4096L, 1);
        }
        long free = mm.root().freeFrames();

        assertEquals(SpaceResult.OK, spaces.unmap(space, VirtAddr.of(BASE + 4096), 2 * 4096));

        assertEquals(List.of(List.of(BASE, BASE + 4096), List.of(BASE + 3 * 4096, BASE + 4 * 4096)),
                spaces.vmas(space).stream().map(v -> List.of(v.start().value(), v.end().value())).toList());
        assertEquals(free + 2, mm.root().freeFrames());
        assertFalse(cpu.write(space, BASE + 4096, 1));
        assertEquals(Resolution.NOT_IN_ANY_VMA, cpu.faults.getLast());
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void protectReadOnly_makesAWriteARealError_andProtectBackRestoresIt() {
        AddressSpace space = spaceWithVma(2);
        cpu.write(space, BASE, 7);

        assertEquals(SpaceResult.OK, spaces.protect(space, VirtAddr.of(BASE), 4096, PageTableEntry.USER));

        assertEquals(2, spaces.vmas(space).size(), "split at the protected page's end");
        assertFalse(cpu.write(space, BASE, 8));
        assertEquals(Resolution.ACCESS_DENIED, cpu.faults.getLast());
        assertEquals(Optional.of(7), cpu.read(space, BASE));
        assertEquals(SpaceResult.OK, spaces.protect(space, VirtAddr.of(BASE), 4096, RW_USER));
        int faults = cpu.faults.size();
        assertTrue(cpu.write(space, BASE, 8));
        assertEquals(faults, cpu.faults.size(), "an unshared page is writable again at once");
        assertEquals(List.of(), mm.memory.check());
    }

    @Test
    void badRequests_areRefused_andChangeNothing() {
        AddressSpace space = spaceWithVma(2);
        byte[] before = mm.snapshot();

        assertEquals(SpaceResult.BAD_RANGE, spaces.map(space, VirtAddr.of(0), 4096, RW_USER), "the NULL page");
        assertEquals(SpaceResult.BAD_RANGE, spaces.map(space, VirtAddr.of(0x1234), 4096, RW_USER));
        assertEquals(SpaceResult.BAD_RANGE, spaces.map(space, VirtAddr.of(0x7fff_ffff_f000L), 2 * 4096, RW_USER));
        assertEquals(SpaceResult.BAD_RANGE, spaces.map(space, VirtAddr.of(0xffff_8000_0000_0000L), 4096, RW_USER));
        assertEquals(SpaceResult.BAD_RANGE, spaces.map(space, VirtAddr.of(0x1000), -4096, RW_USER));
        assertEquals(SpaceResult.BAD_FLAGS, spaces.map(space, VirtAddr.of(0x1000), 4096, RW_USER | PageTableEntry.GLOBAL));
        assertEquals(SpaceResult.OVERLAPS, spaces.map(space, VirtAddr.of(BASE + 4096), 4096, RW_USER));
        assertEquals(SpaceResult.NOT_MAPPED, spaces.protect(space, VirtAddr.of(BASE), 3 * 4096, RW_USER));

        assertTrue(mm.unchangedSince(before));
    }

    @Test
    void destroyOfTheActiveSpace_isRefused() {
        AddressSpace space = spaces.create().orElseThrow();
        mm.memory.activeSpaceFrom(() -> space.pml4().value());

        assertEquals(SpaceResult.ACTIVE, spaces.destroy(space));
        assertEquals(Optional.of(space), spaces.active());
    }

    @Test
    void userFaults_goToTheSpaceCr3Selects() {
        AddressSpace space = spaceWithVma(1);
        mm.memory.activeSpaceFrom(() -> space.pml4().value());

        var outcome = mm.memory.demandPaging().handleFault(VirtAddr.of(BASE), dev.kemu.machine.PageFaultCode.WRITE);

        assertEquals(dev.kemu.kernel.mm.DemandPaging.Outcome.MAPPED, outcome);
        assertTrue(spaces.translate(space, VirtAddr.of(BASE)).isPresent());
        assertEquals(Resolution.ZERO_FILLED, spaces.lastFault().orElseThrow().resolution());
    }

    @Test
    void checker_findsAWrongReferenceCount_aDivergedKernelHalf_andAWritableSharedPage() {
        AddressSpace parent = spaceWithVma(1);
        cpu.write(parent, BASE, 1);
        AddressSpace child = spaces.clone(parent).orElseThrow();
        long frame = spaces.translate(parent, VirtAddr.of(BASE)).orElseThrow().value();
        FrameTable frames = FrameTable.of(mm.root());

        frames.setTag(frame / 4096, 3);
        assertTrue(mm.memory.check().contains(String.format("anonymous frame P0x%x counts 3 references, 2 entries map it",
                frame)), mm.memory.check().toString());
        frames.setTag(frame / 4096, 2);

        long entry = child.pml4().value() + 300 * 8L;
        mm.ram.write64(entry, 0x1234_5003L);
        assertTrue(mm.memory.check().stream().anyMatch(p -> p.contains("kernel-half PML4 entry 300 is 0x12345003")),
                mm.memory.check().toString());
        mm.ram.write64(entry, mm.ram.read64(mm.root().pml4().value() + 300 * 8L));

        spaces.tables(child).remap(VirtAddr.of(BASE), PhysAddr.of(frame), RW_USER);
        assertTrue(mm.memory.check().stream().anyMatch(p -> p.contains("writable while its reference count is 2")),
                mm.memory.check().toString());
    }
}
