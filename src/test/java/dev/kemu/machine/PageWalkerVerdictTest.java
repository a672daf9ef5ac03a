package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each rule of the walker's verdict on hand-built tables (the property test holds them against Unicorn). */
class PageWalkerVerdictTest {
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
    private static final long P = PageTableEntry.PRESENT, W = PageTableEntry.WRITABLE, U = PageTableEntry.USER,
            PS = PageTableEntry.HUGE, NX = PageTableEntry.NO_EXECUTE;
    private static final PagingMode NXE_WP = longMode(CpuState.CR0_WP, 0, CpuState.EFER_NXE, 0);
    private static final Access SUPERVISOR_WRITE = Access.of(Access.Kind.WRITE, Access.Mode.SUPERVISOR),
            SUPERVISOR_FETCH = Access.of(Access.Kind.FETCH, Access.Mode.SUPERVISOR),
            USER_READ = Access.of(Access.Kind.READ, Access.Mode.USER),
            USER_WRITE = Access.of(Access.Kind.WRITE, Access.Mode.USER);

    /** The mode of a CPU in 4-level paging (CR0.PG, CR4.PAE, EFER.LMA) with these other control bits. */
    private static PagingMode longMode(long cr0, long cr4, long efer, long rflags) {
        return PagingMode.of(cr0 | CpuState.CR0_PG, cr4 | CpuState.CR4_PAE, efer | CpuState.EFER_LMA, rflags);
    }

    /** V0x5000 -> 4 KiB page at P0x9000 with {@code leaf} flags; upper levels P W U. */
    private static AccessVerdict verdict(long leaf, long va, Access access, PagingMode mode) {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write64(PML4, PDPT | P | W | U);
            ram.write64(PDPT, PD | P | W | U);
            ram.write64(PD, PT | P | W | U);
            ram.write64(PT + 8 * 5, leaf);
            return new PageWalker(ram).walk(PML4, VirtAddr.of(va), access, mode).verdict();
        }
    }

    private static int errorCode(AccessVerdict verdict) {
        return assertInstanceOf(AccessVerdict.PageFault.class, verdict).errorCode();
    }

    @Test
    void writeToReadOnlyPage_faultsFromRing3Always_fromRing0OnlyWithWp() {
        long readOnly = 0x9000 | P | U;
        assertEquals(0x7, errorCode(verdict(readOnly, 0x5008, USER_WRITE, longMode(0, 0, 0, 0))));
        assertEquals(0x3, errorCode(verdict(readOnly, 0x5008, SUPERVISOR_WRITE, NXE_WP)));
        AccessVerdict withoutWp = verdict(readOnly, 0x5008, SUPERVISOR_WRITE, longMode(0, 0, 0, 0));
        assertEquals(PhysAddr.of(0x9008), assertInstanceOf(AccessVerdict.Allowed.class, withoutWp).physical());
    }

    @Test
    void userAccessToSupervisorPage_faultsWithPAndU() {
        AccessVerdict verdict = verdict(0x9000 | P | W, 0x5000, USER_READ, NXE_WP);
        assertEquals(0x5, errorCode(verdict));
        assertTrue(verdict.reason().contains("U clear in the PT entry 5"), verdict.reason());
    }

    @Test
    void nxBit_isAProtectionFaultWithNxe_andAReservedBitWithout() {
        long noExecute = 0x9000 | P | W | NX;
        assertEquals(0x11, errorCode(verdict(noExecute, 0x5000, SUPERVISOR_FETCH, NXE_WP)));
        // Without EFER.NXE bit 63 is reserved, whatever the access; I/D is then set only under SMEP.
        assertEquals(0x9, errorCode(verdict(noExecute, 0x5000, SUPERVISOR_FETCH, longMode(0, 0, 0, 0))));
        assertEquals(0x9, errorCode(verdict(noExecute, 0x5000, Access.SUPERVISOR_READ, longMode(0, 0, 0, 0))));
        assertEquals(0x19, errorCode(verdict(noExecute, 0x5000, SUPERVISOR_FETCH,
                longMode(0, PagingMode.CR4_SMEP, 0, 0))));
    }

    @Test
    void notPresent_hasNoPBit_andIgnoresReservedBitsOfThatEntry() {
        assertEquals(0x6, errorCode(verdict(0x9000 | W | PS | 1L << 45, 0x5000, USER_WRITE, NXE_WP)));
        assertEquals(0x0, errorCode(verdict(0, 0x5000, SUPERVISOR_FETCH, longMode(0, 0, 0, 0))));
    }

    @Test
    void addressBitAboveMaxPhysAddr_isReserved_andNamedInTheReason() {
        AccessVerdict verdict = verdict(1L << 40 | 0x9000 | P | W, 0x5000, Access.SUPERVISOR_READ, NXE_WP);
        assertEquals(0x9, errorCode(verdict));
        assertTrue(verdict.reason().startsWith("reserved address bit 40 set (above MAXPHYADDR, 40 bits)"), verdict.reason());
        AccessVerdict wider = verdict(1L << 40 | 0x9000 | P | W, 0x5000, Access.SUPERVISOR_READ,
                new PagingMode(false, true, false, false, false, 46));
        assertEquals(PhysAddr.of(1L << 40 | 0x9000), assertInstanceOf(AccessVerdict.Allowed.class, wider).physical());
    }

    @Test
    void smep_refusesSupervisorFetchFromUserPage_smap_refusesDataAccessUnlessAc() {
        long user = 0x9000 | P | W | U;
        PagingMode smep = longMode(0, PagingMode.CR4_SMEP, CpuState.EFER_NXE, 0);
        assertEquals(0x11, errorCode(verdict(user, 0x5000, SUPERVISOR_FETCH, smep)));
        assertInstanceOf(AccessVerdict.Allowed.class, verdict(user, 0x5000, Access.SUPERVISOR_READ, smep));
        PagingMode smap = longMode(0, PagingMode.CR4_SMAP, CpuState.EFER_NXE, 0);
        assertEquals(0x3, errorCode(verdict(user, 0x5000, SUPERVISOR_WRITE, smap)));
        assertEquals(AccessVerdict.Cause.SMAP, ((AccessVerdict.PageFault) verdict(user, 0x5000, Access.SUPERVISOR_READ,
                smap)).cause());
        PagingMode smapWithAc = longMode(0, PagingMode.CR4_SMAP, CpuState.EFER_NXE, PagingMode.RFLAGS_AC);
        assertInstanceOf(AccessVerdict.Allowed.class, verdict(user, 0x5000, SUPERVISOR_WRITE, smapWithAc));
        assertInstanceOf(AccessVerdict.Allowed.class, verdict(user, 0x5000, SUPERVISOR_FETCH, smap));
    }

    @Test
    void hugePages_1GiBAtPdpt_2MiBAtPd_withLowAddressBitsReservedButPatAllowed() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write64(PML4, PDPT | P | W);
            ram.write64(PDPT + 8, 0x4000_0000L | 1L << 12 | P | W | PS);       // 1 GiB at V0x40000000, PAT set
            ram.write64(PDPT + 16, 0x8000_0000L | 1L << 29 | P | W | PS);      // bit 29 below 1 GiB: reserved
            ram.write64(PDPT, PD | P | W);
            ram.write64(PD + 8, 0x20_0000L | 1L << 13 | P | W | PS);           // bit 13 below 2 MiB: reserved
            PageWalker walker = new PageWalker(ram);
            PageWalk giant = walker.walk(PML4, VirtAddr.of(0x4123_4567L));
            assertEquals(PhysAddr.of(0x4123_4567L), giant.physical().orElseThrow());
            assertEquals(1L << 30, giant.pageSize());
            assertTrue(giant.describe().contains("(1 GiB page"), giant.describe());
            assertEquals(-1, walker.translate(PML4, 0x8000_0000L));
            AccessVerdict low = walker.walk(PML4, VirtAddr.of(0x8000_0000L)).verdict();
            assertTrue(low.reason().contains("address bits 29..13 of a 1 GiB page must be zero"), low.reason());
            AccessVerdict twoMiB = walker.walk(PML4, VirtAddr.of(0x20_0000L)).verdict();
            assertEquals(0x9, errorCode(twoMiB));
            assertTrue(twoMiB.reason().contains("address bits 20..13 of a 2 MiB page"), twoMiB.reason());
        }
    }

    @Test
    void nonCanonicalAddress_isAGeneralProtectionFault_notAPageFault() {
        AccessVerdict verdict = verdict(0x9000 | P, 0x0000_8000_0000_5000L, USER_READ, NXE_WP);
        assertInstanceOf(AccessVerdict.NonCanonical.class, verdict);
    }

    @Test
    void badInput_isRefusedWithTheValueNamed() {
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new PagingMode(false, false, false, false, false, 60));
        assertTrue(width.getMessage().contains("got 60"), width.getMessage());
        IllegalArgumentException access = assertThrows(IllegalArgumentException.class,
                () -> Access.of(null, Access.Mode.USER));
        assertTrue(access.getMessage().contains("kind"), access.getMessage());
    }

    @Test
    void errorCodeDescription_namesEveryBit() {
        assertEquals("0x1f (P W U RSVD I/D)", PageFaultCode.describe(0x1f));
        assertEquals("0x0 (not present read supervisor)", PageFaultCode.describe(0));
    }

    @Test
    void tableOutsideRam_isNamed_andTranslatesToMinusOne() {
        try (Arena arena = Arena.ofConfined()) {
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            ram.write64(PML4, 0x20_0000L | P | W); // a PDPT beyond the 1 MiB of RAM
            PageWalker walker = new PageWalker(ram);
            AccessVerdict verdict = walker.walk(PML4, VirtAddr.of(0x1000)).verdict();
            assertEquals("PDPT table P0x200000 lies outside guest RAM",
                    assertInstanceOf(AccessVerdict.TableOutsideRam.class, verdict).reason());
            assertEquals(-1, walker.translate(PML4, 0x1000));
        }
    }
}
