package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What Unicorn's default CPU model offers the page walker: MAXPHYADDR, SMEP, no SMAP. */
class EmulatedCpuModelTest {
    @Test
    void cpuid80000008_reportsTheMaxPhysAddrThePagingModeAssumes() {
        try (Machine machine = new Machine(1 << 20)) {
            // mov eax, 0x80000008 ; cpuid ; hlt
            machine.ram().write(0x1000, new byte[]{(byte) 0xB8, 0x08, 0, 0, (byte) 0x80, 0x0F, (byte) 0xA2, (byte) 0xF4});
            RunResult result = machine.run(0x1000, RunLimits.budget(10));
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(PagingMode.EMULATED_MAX_PHYS_ADDR, result.cpu().rax() & 0xff);
        }
    }

    @Test
    void movCr4_keepsSmep_butDropsSmapWhichTheDefaultModelLacks() {
        try (EmulatedMmu mmu = new EmulatedMmu()) {
            PagingMode mode = mmu.setControls(true, true, true, true);
            assertTrue(mode.smep(), "Haswell, Unicorn's default x86-64 model, has SMEP");
            assertFalse(mode.smap(), "and no SMAP: a guest mov cr4 drops the bit");
            assertTrue(mode.writeProtect() && mode.noExecuteEnabled());
        }
    }

    /**
     * 5-level paging: Unicorn's default model does not offer LA57 (CPUID.(EAX=7,ECX=0):ECX[16]), so no kernel kemu
     * boots can turn it on; {@link FiveLevelPagingMmuPropertyTest} checks the 5-level walk on the Icelake-Server model.
     */
    @Test
    void cpuid7_reportsNoLa57() {
        try (Machine machine = new Machine(1 << 20)) {
            // mov eax, 7 ; xor ecx, ecx ; cpuid ; hlt
            machine.ram().write(0x1000, new byte[]{(byte) 0xB8, 7, 0, 0, 0, 0x31, (byte) 0xC9, 0x0F, (byte) 0xA2,
                    (byte) 0xF4});
            RunResult result = machine.run(0x1000, RunLimits.budget(10));
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(0, result.cpu().gprs()[1] & (1L << 16), "CPUID.7.0:ECX = 0x" + Long.toHexString(result.cpu().gprs()[1]));
        }
    }
}
