package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The walk in each paging mode on hand-built tables: its levels, its terms, and the rules the MMU tests cannot reach. */
class PagingFormatWalkTest {
    private static final long P = PageTableEntry.PRESENT, W = PageTableEntry.WRITABLE, U = PageTableEntry.USER,
            PS = PageTableEntry.HUGE;
    private static final long CR0_PAGING = CpuState.CR0_PE | CpuState.CR0_PG;

    private static GuestRam ram(Arena arena) {
        return new GuestRam(arena.allocate(1 << 20, 4096));
    }

    @Test
    void withoutPaging_anAddressWiderThan32Bits_reachesNothing_andIsNoFault() {
        try (Arena arena = Arena.ofConfined()) {
            PagingMode mode = PagingMode.of(CpuState.CR0_PE, 0, CpuState.EFER_LMA, 0x2); // a fresh engine: LMA, no PG
            PageWalker walker = new PageWalker(ram(arena));
            AccessVerdict higherHalf = walker.walk(0, VirtAddr.of(0xffff_ffff_8010_0000L), Access.SUPERVISOR_READ, mode)
                    .verdict();
            assertTrue(higherHalf instanceof AccessVerdict.NonCanonical, higherHalf.toString());
            assertTrue(higherHalf.reason().contains("wider than 32 bits"), higherHalf.reason());
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x7000), 4096),
                    walker.walk(0, VirtAddr.of(0x7000), Access.SUPERVISOR_READ, mode).verdict());
        }
    }

    @Test
    void of_choosesTheModeFromCr0Cr4AndEfer() {
        assertEquals(PagingFormat.NONE, PagingFormat.of(CpuState.CR0_PE, CpuState.CR4_PAE, CpuState.EFER_LMA));
        assertEquals(PagingFormat.BITS_32, PagingFormat.of(CR0_PAGING, PagingFormat.CR4_PSE, 0));
        assertEquals(PagingFormat.PAE, PagingFormat.of(CR0_PAGING, CpuState.CR4_PAE, CpuState.EFER_LME));
        assertEquals(PagingFormat.FOUR_LEVEL, PagingFormat.of(CR0_PAGING, CpuState.CR4_PAE, CpuState.EFER_LMA));
        assertEquals(PagingFormat.FIVE_LEVEL, PagingFormat.of(CR0_PAGING, CpuState.CR4_PAE | PagingFormat.CR4_LA57,
                CpuState.EFER_LMA));
    }

    @Test
    void thirtyTwoBit_walksPdAndPtWithTenBitIndicesAndFourByteEntries() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ram(arena);
            ram.write32(0x1000 + 4 * 0x301, (int) (0x2000 | P | W | U));   // PD[769]: V0xc0400000..
            ram.write32(0x2000 + 4 * 0x3ff, (int) (0x9000 | P | U));       // PT[1023]
            PagingMode mode = PagingMode.of(CR0_PAGING, 0, 0, 0);
            PageWalk walk = new PageWalker(ram).walk(0x1000, VirtAddr.of(0xc07f_f123L), Access.SUPERVISOR_READ, mode);
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x9123), 4096), walk.verdict());
            String text = walk.describe();
            assertTrue(text.contains("page walk of V0xc07ff123 (32-bit paging, CR3 P0x1000)"), text);
            assertTrue(text.contains("PD   P0x1000[ 769] @ P0x1c04 = 0x00002007 [P W U]"), text);
            assertTrue(text.contains("PT   P0x2000[1023] @ P0x2ffc = 0x00009005 [P RO U]"), text);
            AccessVerdict write = new PageWalker(ram).walk(0x1000, VirtAddr.of(0xc07f_f123L),
                    Access.of(Access.Kind.WRITE, Access.Mode.USER), mode).verdict();
            assertEquals("write to a read-only page: W clear in the PT entry 1023 (at P0x2ffc = 0x9005)", write.reason());
            assertEquals(0x9123, new PageWalker(ram).translate(0x1000, 0xc07f_f123L,
                    PagingMode.hostView(CR0_PAGING, 0, 0)));
        }
    }

    @Test
    void thirtyTwoBit_fourMiBPage_takesPse36BitsAsAddressBits39To32_andBit21IsReserved() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ram(arena);
            ram.write32(0x1000 + 4 * 2, (int) (0x0840_0000L | 0x5L << 13 | P | W | PS)); // frame 0x5_0840_0000
            PagingMode pse = PagingMode.of(CR0_PAGING, PagingFormat.CR4_PSE, 0, 0);
            AccessVerdict verdict = new PageWalker(ram).walk(0x1000, VirtAddr.of(0x0092_3456L), Access.SUPERVISOR_READ,
                    pse).verdict();
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x5_0852_3456L), 4L << 20), verdict);
            ram.write32(0x1000 + 4 * 2, (int) (0x0840_0000L | 1L << 21 | P | W | PS));
            AccessVerdict reserved = new PageWalker(ram).walk(0x1000, VirtAddr.of(0x0092_3456L), Access.SUPERVISOR_READ,
                    pse).verdict();
            assertEquals(PageFaultCode.PRESENT | PageFaultCode.RESERVED,
                    assertInstanceOf(AccessVerdict.PageFault.class, reserved).errorCode());
            assertTrue(reserved.reason().startsWith("reserved bit 21 set in the PD entry 2"), reserved.reason());
        }
    }

    @Test
    void thirtyTwoBit_withoutCr4Pse_psIsIgnoredAndTheEntryNamesAPageTable() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ram(arena);
            ram.write32(0x1000, (int) (0x2000 | P | W | PS));
            ram.write32(0x2000 + 4 * 3, (int) (0x7000 | P | W));
            PageWalk walk = new PageWalker(ram).walk(0x1000, VirtAddr.of(0x3010), Access.SUPERVISOR_READ,
                    PagingMode.of(CR0_PAGING, 0, 0, 0));
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x7010), 4096), walk.verdict());
            assertEquals(2, walk.levels().size());
            assertEquals(0x7010, new PageWalker(ram).translate(0x1000, 0x3010, PagingMode.hostView(CR0_PAGING, 0, 0)),
                    "host-side translation follows CR4.PSE too");
        }
    }

    @Test
    void pae_walksOneOfFourPdptesThenPdAndPt_andAPdpteGrantsNoRights() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ram(arena);
            ram.write64(0x1020 + 8 * 3, 0x3000 | P);                      // PDPT at CR3 0x1020 (32-byte aligned)
            ram.write64(0x3000 + 8 * 5, 0x4000 | P | W | U);
            ram.write64(0x4000 + 8 * 7, 0x9000 | P | W | U | PageTableEntry.NO_EXECUTE);
            PagingMode mode = PagingMode.of(CR0_PAGING | CpuState.CR0_WP, CpuState.CR4_PAE, CpuState.EFER_NXE, 0);
            long va = 3L << 30 | 5L << 21 | 7L << 12 | 0x88;
            PageWalk walk = new PageWalker(ram).walk(0x1020, VirtAddr.of(va), Access.of(Access.Kind.WRITE,
                    Access.Mode.USER), mode);
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x9088), 4096), walk.verdict());
            String text = walk.describe();
            assertTrue(text.contains("page walk of V0xc0a07088 (PAE, CR3 P0x1020)"), text);
            assertTrue(text.contains("PDPT P0x1020[   3] @ P0x1038 = 0x0000000000003001 [P]"), text);
            assertTrue(text.contains("-> P0x9088 (4 KiB page, writable, user, no-execute)"), text);
            AccessVerdict fetch = new PageWalker(ram).walk(0x1020, VirtAddr.of(va), Access.of(Access.Kind.FETCH,
                    Access.Mode.USER), mode).verdict();
            assertEquals(PageFaultCode.PRESENT | PageFaultCode.USER | PageFaultCode.FETCH,
                    assertInstanceOf(AccessVerdict.PageFault.class, fetch).errorCode());
            assertTrue(fetch.reason().contains("NX set in the PT entry 7"), fetch.reason());
        }
    }

    @Test
    void fiveLevel_walksPml5First_andChecksCanonicalityAtBit56() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = ram(arena);
            long va = 0xff11_2233_4455_6677L; // PML5 index 0x1f1 (bits 56..48), sign-extended from bit 56
            ram.write64(0x1000 + 8L * VirtAddr.of(va).index(5), 0x2000 | P | W);
            ram.write64(0x2000 + 8L * VirtAddr.of(va).index(4), 0x3000 | P | W);
            ram.write64(0x3000 + 8L * VirtAddr.of(va).index(3), 0x4000 | P | W);
            ram.write64(0x4000 + 8L * VirtAddr.of(va).index(2), 0x5000 | P | W);
            ram.write64(0x5000 + 8L * VirtAddr.of(va).index(1), 0x9000 | P | W);
            PagingMode mode = PagingMode.of(CR0_PAGING, CpuState.CR4_PAE | PagingFormat.CR4_LA57, CpuState.EFER_LMA, 0);
            PageWalk walk = new PageWalker(ram).walk(0x1000, VirtAddr.of(va), Access.SUPERVISOR_READ, mode);
            assertEquals(new AccessVerdict.Allowed(PhysAddr.of(0x9677), 4096), walk.verdict());
            assertEquals("PML5", walk.levels().getFirst().tableName());
            assertEquals(5, walk.levels().size());
            AccessVerdict nonCanonical = new PageWalker(ram).walk(0x1000, VirtAddr.of(0x0100_0000_0000_0000L),
                    Access.SUPERVISOR_READ, mode).verdict();
            assertEquals("non-canonical address (bits 63..56 differ)", nonCanonical.reason());
        }
    }

    @Test
    void legacyModes_refuseAnAddressWiderThan32Bits() {
        try (Arena arena = Arena.ofConfined()) {
            AccessVerdict verdict = new PageWalker(ram(arena)).walk(0x1000, VirtAddr.of(1L << 32), Access.SUPERVISOR_READ,
                    PagingMode.of(CR0_PAGING, CpuState.CR4_PAE, 0, 0)).verdict();
            assertTrue(verdict.reason().contains("wider than 32 bits"), verdict.reason());
        }
    }
}
