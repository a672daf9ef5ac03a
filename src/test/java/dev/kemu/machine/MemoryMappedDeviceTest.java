package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Memory-mapped devices on the device bus: real guest loads and stores of every width reach them. */
class MemoryMappedDeviceTest {
    private static final long APIC = 0xfee0_0000L;
    private static final long CODE = 0x1000;
    private static final long STORED = 0x1122_3344_5566_7788L;
    private static final long PATTERN = 0xa1a2_a3a4_a5a6_a7a8L;

    /** Stores of each width, then loads of each width, through RBX, then hlt. */
    private static final byte[] ACCESSES = {
            (byte) 0x88, 0x43, 0x10,                                   // mov byte ptr [rbx + 0x10], al
            0x66, (byte) 0x89, 0x43, 0x20,                             // mov word ptr [rbx + 0x20], ax
            (byte) 0x89, 0x43, 0x30,                                   // mov dword ptr [rbx + 0x30], eax
            0x48, (byte) 0x89, 0x43, 0x40,                             // mov qword ptr [rbx + 0x40], rax
            0x0f, (byte) 0xb6, 0x4b, 0x50,                             // movzx ecx, byte ptr [rbx + 0x50]
            0x0f, (byte) 0xb7, 0x53, 0x60,                             // movzx edx, word ptr [rbx + 0x60]
            (byte) 0x8b, 0x73, 0x70,                                   // mov esi, dword ptr [rbx + 0x70]
            0x48, (byte) 0x8b, (byte) 0xbb, (byte) 0x80, 0, 0, 0,      // mov rdi, qword ptr [rbx + 0x80]
            (byte) 0xf4};                                              // hlt

    record Access(String kind, long offset, int size, long value) {}

    /** Records every access; a load at offset o returns PATTERN + o. */
    static final class Recorder implements MmioDevice {
        final List<Access> accesses = new ArrayList<>();

        @Override
        public long read(Machine machine, long offset, int size) {
            accesses.add(new Access("read", offset, size, 0));
            return PATTERN + offset;
        }

        @Override
        public void write(Machine machine, long offset, int size, long value) {
            accesses.add(new Access("write", offset, size, value));
        }
    }

    @Test
    void guestLoadsAndStoresOfEveryWidth_withPagingOff_reachTheDeviceAtItsOffsets() {
        try (Machine machine = new Machine(1 << 20)) {
            Recorder device = new Recorder();
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, device);
            runAccesses(machine, APIC, device);
        }
    }

    @Test
    void guestLoadsAndStoresOfEveryWidth_throughAPageTableMapping_reachTheDevice() {
        try (Machine machine = new Machine(1 << 20)) {
            Recorder device = new Recorder();
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, device);
            long pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000, pt = 0x13000, virtual = 0x5000;
            long table = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;
            machine.ram().write64(pml4, pdpt | table);
            machine.ram().write64(pdpt, pd | table);
            machine.ram().write64(pd, pt | table);
            machine.ram().write64(pt + 8 * (CODE >> 12), CODE | table);
            machine.ram().write64(pt + 8 * (virtual >> 12), APIC | table);
            machine.setRegister(X86Reg.CR3, pml4);
            machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
            machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG);
            runAccesses(machine, virtual, device);
        }
    }

    private static void runAccesses(Machine machine, long base, Recorder device) {
        machine.ram().write(CODE, ACCESSES);
        machine.setRegister(X86Reg.RBX, base);
        machine.setRegister(X86Reg.RAX, STORED);
        RunResult result = machine.run(CODE, RunLimits.budget(100));
        assertEquals(StopReason.HALTED, result.reason(), result.detail());
        assertEquals(List.of(
                new Access("write", 0x10, 1, 0x88),
                new Access("write", 0x20, 2, 0x7788),
                new Access("write", 0x30, 4, 0x5566_7788L),
                // Unicorn 2.1.4 splits an 8-byte access into two 4-byte ones, low half first.
                new Access("write", 0x40, 4, STORED & 0xffff_ffffL),
                new Access("write", 0x44, 4, STORED >>> 32),
                new Access("read", 0x50, 1, 0),
                new Access("read", 0x60, 2, 0),
                new Access("read", 0x70, 4, 0),
                new Access("read", 0x80, 4, 0),
                new Access("read", 0x84, 4, 0)), device.accesses);
        assertEquals((PATTERN + 0x50) & 0xff, machine.register(X86Reg.RCX), "byte load");
        assertEquals((PATTERN + 0x60) & 0xffff, machine.register(X86Reg.RDX), "word load");
        assertEquals((PATTERN + 0x70) & 0xffff_ffffL, machine.register(X86Reg.RSI), "dword load");
        assertEquals((PATTERN + 0x84) << 32 | ((PATTERN + 0x80) & 0xffff_ffffL), machine.register(X86Reg.RDI),
                "qword load: two dword loads, the low one at the lower offset");
    }

    @Test
    void guestStoresToADevice_whileDirtyPagesAreTracked_markNoRamPage() {
        long high = 0x800_0000_0000L; // page number 0x8000_0000: negative as an int
        try (Machine machine = new Machine(1 << 20)) {
            DirtyPages dirty = machine.dirtyPages();
            Recorder low = new Recorder();
            Recorder far = new Recorder();
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, low);
            machine.bus().claimMemory(PhysAddr.of(high), 0x1000, far);
            // mov dword ptr [rbx], eax ; mov dword ptr [rdx], eax ; hlt
            machine.ram().write(CODE, new byte[]{(byte) 0x89, 0x03, (byte) 0x89, 0x02, (byte) 0xf4});
            machine.setRegister(X86Reg.RBX, APIC);
            machine.setRegister(X86Reg.RDX, high);
            machine.setRegister(X86Reg.RAX, 0x5a);
            long before = dirty.count();
            RunResult result = machine.run(CODE, RunLimits.budget(10));
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(List.of(new Access("write", 0, 4, 0x5a)), low.accesses);
            assertEquals(List.of(new Access("write", 0, 4, 0x5a)), far.accesses);
            assertEquals(before, dirty.count(), "a device's range is not guest RAM");
        }
    }

    @Test
    void claimOverlappingGuestRam_isRefusedNamingBothRanges() {
        try (Machine machine = new Machine(1 << 20)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> machine.bus().claimMemory(PhysAddr.of(0xff000), 0x2000, new Recorder()));
            assertEquals("memory-mapped range P0xff000-P0x100fff overlaps guest RAM P0x0-P0xfffff; "
                    + "place the device above the end of RAM", e.getMessage());
        }
    }

    @Test
    void claimOverlappingAnotherDevice_isRefusedNamingBothRanges() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, new Recorder());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> machine.bus().claimMemory(PhysAddr.of(APIC - 0x1000), 0x2000, new Recorder()));
            assertEquals("memory-mapped range P0xfedff000-P0xfee00fff overlaps P0xfee00000-P0xfee00fff, already "
                    + "claimed by Recorder; close that claim first", e.getMessage());
        }
    }

    @Test
    void claimNotOnWholePages_isRefused() {
        try (Machine machine = new Machine(1 << 20)) {
            IllegalArgumentException unaligned = assertThrows(IllegalArgumentException.class,
                    () -> machine.bus().claimMemory(PhysAddr.of(APIC + 0x10), 0x1000, new Recorder()));
            assertEquals("memory-mapped range P0xfee00010 + 0x1000 is not a whole number of 4 KiB pages: give a "
                    + "4 KiB-aligned address and a positive size that is a multiple of 0x1000", unaligned.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> machine.bus().claimMemory(PhysAddr.of(APIC), 0x800, new Recorder()));
            IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
                    () -> machine.bus().claimMemory(PhysAddr.of(1L << 52), 0x1000, new Recorder()));
            assertEquals("memory-mapped range P0x10000000000000 + 0x1000 ends beyond the 52-bit physical address "
                    + "space (P0xfffffffffffff)", beyond.getMessage());
        }
    }

    @Test
    void closedClaim_unmapsTheRange_andFreesItForAnotherDevice() {
        try (Machine machine = new Machine(1 << 20)) {
            Recorder first = new Recorder();
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, first).close();
            machine.ram().write(CODE, new byte[]{(byte) 0x8b, 0x03, (byte) 0xf4}); // mov eax, [rbx] ; hlt
            machine.setRegister(X86Reg.RBX, APIC);
            RunResult unmapped = machine.run(CODE, RunLimits.budget(10));
            assertEquals(StopReason.EMULATION_ERROR, unmapped.reason(), unmapped.detail());
            assertEquals(List.of(), first.accesses);

            Recorder second = new Recorder();
            machine.bus().claimMemory(PhysAddr.of(APIC), 0x1000, second);
            RunResult mapped = machine.run(CODE, RunLimits.budget(10));
            assertEquals(StopReason.HALTED, mapped.reason(), mapped.detail());
            assertEquals(List.of(new Access("read", 0, 4, 0)), second.accesses);
        }
    }

    @Test
    void aPortsOnlyBus_refusesMemoryClaims() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new DeviceBus().claimMemory(PhysAddr.of(APIC), 0x1000, new Recorder()));
        assertEquals("this device bus has ports only; claim memory on a Machine's bus()", e.getMessage());
    }
}
