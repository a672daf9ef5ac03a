package dev.kemu.kernel;

import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.PageTables;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MmRoot}'s direct-map conversions against the page tables the memory manager built:
 * the walk of the kernel's own tables is the reference for where a direct-map address lands.
 */
class DirectMapAddressTest {

    @Provide
    Arbitrary<Long> physical() {
        return Arbitraries.longs().between(0, MmFixture.RAM - 1);
    }

    /** Addresses in, just around and far from the direct map of RAM. */
    @Provide
    Arbitrary<Long> virtual() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(-4096, MmFixture.RAM + 4096).map(offset -> MmLayout.DIRECT_MAP_BASE + offset),
                Arbitraries.longs());
    }

    @Property(tries = 20)
    void toVirtualThenToPhysical_givesTheAddressBack_andThePageTablesAgree(
            @ForAll @Size(50) List<@From("physical") Long> addresses) {
        try (MmFixture mm = new MmFixture()) {
            PageTables tables = mm.memory.pageTables();
            for (long pa : addresses) {
                VirtAddr va = mm.root().toVirtual(PhysAddr.of(pa));
                assertEquals(PhysAddr.of(pa), mm.root().toPhysical(va));
                assertEquals(Optional.of(PhysAddr.of(pa)), tables.translate(va), "the kernel's tables map " + va);
            }
        }
    }

    @Property(tries = 20)
    void physicalOf_isPresentExactlyInsideTheDirectMapOfRam(@ForAll @Size(50) List<@From("virtual") Long> addresses) {
        try (MmFixture mm = new MmFixture()) {
            for (long va : addresses) {
                boolean inside = Long.compareUnsigned(va - MmLayout.DIRECT_MAP_BASE, MmFixture.RAM) < 0;
                Optional<PhysAddr> pa = mm.root().physicalOf(VirtAddr.of(va));
                assertEquals(inside, pa.isPresent(), String.format("V0x%x", va));
                if (inside) {
                    assertEquals(mm.memory.pageTables().translate(VirtAddr.of(va)), pa, String.format("V0x%x", va));
                }
            }
        }
    }

    @Test
    void toPhysical_outsideTheDirectMap_namesTheAddressAndTheRange() {
        try (MmFixture mm = new MmFixture()) {
            VirtAddr end = VirtAddr.of(MmLayout.DIRECT_MAP_BASE + MmFixture.RAM);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mm.root().toPhysical(end));
            assertEquals("V0xffff800001000000 is not a direct-map address of RAM (the direct map is"
                    + " V0xffff800000000000..V0xffff800001000000); pass an address kmalloc, a slab or toVirtual returned",
                    e.getMessage());
        }
    }

    @Test
    void initialize_withAnUnalignedRoot_isRefusedWithTheAddress() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(MmFixture.RAM, 4096));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelMemory.initialize(ram,
                    PhysAddr.of(MmFixture.ROOT + 8), List.of(new PhysRange(PhysAddr.of(0x2000), PhysAddr.of(MmFixture.RAM), FrameType.FREE)),
                    List.of(), PhysAddr.of(MmFixture.PML4), () -> {}));
            assertEquals("mm root P0x10008 is not page aligned; place it on a 4 KiB boundary", e.getMessage());
        }
    }

    @Test
    void rootAddresses_printWithTheirKind() {
        try (MmFixture mm = new MmFixture()) {
            assertEquals("P0x10000", mm.root().phys().toString());
            assertEquals("P0x1000", mm.root().pml4().toString());
            assertEquals("V0xffff800000000000", mm.root().directMapBase().toString());
            assertTrue(mm.root().vmallocStart().compareTo(mm.root().vmallocEnd()) < 0);
        }
    }
}
