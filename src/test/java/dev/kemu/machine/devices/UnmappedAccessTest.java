package dev.kemu.machine.devices;

import dev.kemu.machine.Access;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.machine.UnmappedAccess;
import dev.kemu.testutil.TwoHugePageTables;
import dev.kemu.unicorn.UcError;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A load, store or fetch where nothing is mapped stops with the access and the PC device that lives there. */
class UnmappedAccessTest {
    private static final long CODE = 0x1000;

    private static RunResult runAt(Machine machine, long rbx, int... code) {
        byte[] bytes = new byte[code.length];
        for (int i = 0; i < code.length; i++) {
            bytes[i] = (byte) code[i];
        }
        machine.ram().write(CODE, bytes);
        machine.setRegister(X86Reg.RBX, rbx);
        return machine.run(CODE, RunLimits.budget(100));
    }

    @Test
    void readOfTheLocalApicIdRegister_stopsNamingTheRegister_notUcEmuStart() {
        try (Machine machine = new Machine(1 << 20)) {
            RunResult result = runAt(machine, 0xfee00020L, 0x8b, 0x03, 0xf4); // mov eax, [rbx] ; hlt
            assertEquals(StopReason.EMULATION_ERROR, result.reason(), result.detail());
            UnmappedAccess access = result.unmappedAccess().orElseThrow(() -> new AssertionError(result.detail()));
            assertEquals(new UnmappedAccess(Access.Kind.READ, PhysAddr.of(0xfee00020L), 4, CODE,
                    "local APIC ID register"), access);
            assertEquals("4-byte read of P0xfee00020 (local APIC ID register), which kemu does not emulate, "
                    + "at RIP 0x1000 (UC_ERR_READ_UNMAPPED)", result.detail());
            assertFalse(result.detail().contains("uc_emu_start"), result.detail());
            UnicornException cause = (UnicornException) result.cause().orElseThrow();
            assertEquals(UcError.READ_UNMAPPED, cause.error(), "the native code stays available");
            assertTrue(cause.getCause().getMessage().contains("uc_emu_start"), "the bare error is the cause");
        }
    }

    @Test
    void writeAboveTheEndOfRam_saysSoWithTheRamSize() {
        try (Machine machine = new Machine(1 << 20)) {
            // mov word ptr [rbx], ax ; hlt
            RunResult result = runAt(machine, 0x4000_0000L, 0x66, 0x89, 0x03, 0xf4);
            UnmappedAccess access = result.unmappedAccess().orElseThrow(() -> new AssertionError(result.detail()));
            assertEquals(Access.Kind.WRITE, access.kind());
            assertEquals(2, access.size());
            assertEquals("2-byte write to P0x40000000 (above the end of guest RAM (1 MiB)), where nothing is "
                    + "mapped, at RIP 0x1000 (UC_ERR_WRITE_UNMAPPED)", result.detail());
        }
    }

    @Test
    void fetchFromTheIoApic_isAFetchAtThatRip() {
        try (Machine machine = new Machine(1 << 20)) {
            RunResult result = runAt(machine, 0xfec00000L, 0xff, 0xe3); // jmp rbx
            UnmappedAccess access = result.unmappedAccess().orElseThrow(() -> new AssertionError(result.detail()));
            assertEquals(Access.Kind.FETCH, access.kind());
            assertEquals(0xfec00000L, access.rip());
            assertEquals("I/O APIC register select (IOREGSEL)", access.pcDevice());
            assertTrue(result.detail().startsWith("instruction fetch from P0xfec00000 (I/O APIC register select"),
                    result.detail());
        }
    }

    @Test
    void withPagingOn_theStopNamesThePhysicalAddressTheTablesLedTo() {
        try (Machine machine = new Machine(1 << 20)) {
            TwoHugePageTables.install(machine, 0xfee00000L); // 0x40000000 -> the local APIC's page
            machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | 0x8000_0001L); // PG, PE
            RunResult result = runAt(machine, 0x4000_0030L, 0x8b, 0x03, 0xf4); // mov eax, [rbx] ; hlt
            UnmappedAccess access = result.unmappedAccess().orElseThrow(() -> new AssertionError(result.detail()));
            assertEquals(PhysAddr.of(0xfee00030L), access.address());
            assertEquals("local APIC version register", access.pcDevice());
        }
    }

    @Test
    void aSecondRun_forgetsTheFirstRunsAccess() {
        try (Machine machine = new Machine(1 << 20)) {
            runAt(machine, 0xfed000f0L, 0x8b, 0x03, 0xf4);
            RunResult clean = runAt(machine, 0x2000, 0x8b, 0x03, 0xf4);
            assertEquals(StopReason.HALTED, clean.reason(), clean.detail());
            assertTrue(clean.unmappedAccess().isEmpty());
        }
    }
}
