package dev.kemu.boot.stages;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.testutil.TestKernels;
import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CS descriptor the CPU runs with comes from its hidden segment cache (read from a saved
 * context at the calibrated offset), not from the GDT in memory and not from uc_reg_read, which
 * in a 64-bit libunicorn 2.1.4 engine fills only the selector even when asked for a uc_x86_mmr.
 */
class CodeSegmentCacheTest {
    @Test
    void stagesAndMachine_readTheCache_notTheRegisterApiNorTheGdtInMemory() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults())) {
            BootReport report = boot.run();
            CodeSegment handoff = report.stage(BootStage.FIRMWARE_HANDOFF).orElseThrow().codeSegment();
            assertTrue(handoff.defaultSize32() && !handoff.longMode(), "32-bit code at the handoff: " + handoff);
            assertEquals(0, handoff.base());
            assertEquals(0xffff_ffff, handoff.limit(), "flat");
            CodeSegment kmain = report.stage(BootStage.KMAIN).orElseThrow().codeSegment();
            assertTrue(kmain.longMode() && kmain.dpl() == 0, "64-bit ring-0 code at kmain: " + kmain);

            Machine machine = boot.machine();
            Mmr viaRegisterApi = machine.engine().readMmr(X86Reg.CS);
            CodeSegment cache = machine.codeSegment();
            assertEquals(cache.selector(), viaRegisterApi.selector());
            assertTrue(cache.flags() != 0 && cache.limit() != 0, cache.toString());
            assertEquals(0, viaRegisterApi.limit(), "uc_reg_read(CS) wrote a limit: " + viaRegisterApi);
            assertEquals(0, viaRegisterApi.flags(), "uc_reg_read(CS) wrote flags: " + viaRegisterApi);

            CpuState cpu = machine.cpu();
            long entry = machine.physical(cpu.gdtr().base() + (cpu.cs() & ~7));
            assertTrue(entry >= 0, "the GDT entry of CS is mapped");
            assertTrue((machine.ram().read64(entry) & (1L << 53)) != 0, "the GDT entry in memory has L=1");
            CodeSegment before = machine.codeSegment();
            machine.ram().write64(entry, 0);
            assertEquals(before, machine.codeSegment(), "the cache, not the erased entry");
            assertTrue(machine.codeSegment().longMode());
        }
    }
}
