package dev.kemu.boot;

import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Boots the repository's kernel once and checks every stage against the CPU state observed there. */
@ExtendWith(BootedDefaultKernel.Resolver.class)
class BootStagesTest {
    private static BootedDefaultKernel booted;
    private static KernelBoot boot;
    private static BootReport report;

    @BeforeAll
    static void bootOnce(BootedDefaultKernel kernel) {
        booted = kernel;
        boot = kernel.boot();
        report = kernel.report();
    }

    private static CpuState at(BootStage stage) {
        return report.stage(stage).orElseThrow(() -> new AssertionError("stage never reached: " + stage)).cpu();
    }

    @Test
    void boot_defaultKernel_reachesEveryStageInOrderAndStopsAtExitPort() {
        // Every stage but the Limine protocol's 64-bit entry, which a Multiboot kernel never has.
        assertEquals(Arrays.stream(BootStage.values()).filter(stage -> stage != BootStage.ENTRY_64).toList(),
                report.stages().stream().map(StageEvent::stage).toList());
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
        assertTrue(report.succeeded(), report.failure().orElse(""));
        long previous = -1;
        for (StageEvent event : report.stages()) {
            assertTrue(event.violations().isEmpty(), event.line());
            assertTrue(event.instructions() > previous, "instruction counts increase: " + event.line());
            previous = event.instructions();
        }
    }

    @Test
    void stagesSeenFromTheCpu_landOnTheLabelsKemusKernelStillCarries() {
        // The stages are found without symbols; kemu's kernel keeps its labels, so they cross-check the detection.
        assertEquals(boot.symbols().address("fw_handoff"), at(BootStage.FIRMWARE_HANDOFF).rip());
        assertEquals(boot.symbols().address("_start"), at(BootStage.ENTRY_32).rip());
        assertEquals(boot.symbols().address("boot_paging_on"), at(BootStage.PAGING_ON).rip());
        assertEquals(boot.symbols().address("long_mode_entry"), at(BootStage.LONG_MODE).rip());
        assertEquals(boot.symbols().address("higher_half_entry"), at(BootStage.HIGHER_HALF).rip());
        assertEquals(boot.symbols().address("kernel_tables_on"), at(BootStage.KERNEL_TABLES).rip());
        assertEquals(boot.symbols().address("kmain"), at(BootStage.KMAIN).rip());
    }

    @Test
    void firmwareHandoff_isMultibootState_protectedModePagingOffMagicInEax() {
        CpuState cpu = at(BootStage.FIRMWARE_HANDOFF);
        assertTrue(cpu.protectedMode());
        assertFalse(cpu.pagingEnabled());
        assertFalse(cpu.longModeActive());
        assertEquals(GuestAbi.MULTIBOOT_BOOTLOADER_MAGIC, (int) cpu.gprs()[0]);
        assertEquals(MultibootInfo.ADDRESS, cpu.gprs()[3] & 0xffffffffL, "EBX = boot information");
    }

    @Test
    void entry32_runsAtThePhysicalEntryWithPagingOff() {
        CpuState cpu = at(BootStage.ENTRY_32);
        assertEquals(boot.kernel().entry(), cpu.rip());
        assertFalse(cpu.pagingEnabled());
        assertFalse(report.stage(BootStage.ENTRY_32).get().longModeCode());
    }

    @Test
    void pagingOn_setsPgPaeAndLmaButStaysInCompatibilityMode() {
        CpuState cpu = at(BootStage.PAGING_ON);
        assertTrue(cpu.pagingEnabled());
        assertTrue((cpu.cr4() & CpuState.CR4_PAE) != 0);
        assertTrue((cpu.efer() & CpuState.EFER_LME) != 0);
        assertTrue(cpu.longModeActive());
        assertFalse(report.stage(BootStage.PAGING_ON).get().longModeCode());
        assertEquals(boot.symbols().address("boot_pml4"), cpu.cr3());
    }

    @Test
    void longMode_runsA64BitCodeSegment() {
        assertTrue(at(BootStage.LONG_MODE).longModeActive());
        assertTrue(report.stage(BootStage.LONG_MODE).get().longModeCode());
    }

    @Test
    void higherHalfAndKmain_runAboveKernelVma() {
        for (BootStage stage : List.of(BootStage.HIGHER_HALF, BootStage.KERNEL_TABLES, BootStage.KMAIN)) {
            CpuState cpu = at(stage);
            assertTrue(Long.compareUnsigned(cpu.rip(), GuestAbi.KERNEL_VMA) >= 0, stage + " RIP " + Long.toHexString(cpu.rip()));
            assertTrue(report.stage(stage).get().longModeCode());
        }
        CpuState kmain = at(BootStage.KMAIN);
        assertEquals(boot.symbols().address("kmain"), kmain.rip());
        long rdi = kmain.gprs()[7];
        assertEquals(GuestAbi.KERNEL_VMA + MultibootInfo.ADDRESS, rdi, "kmain gets the higher-half boot info pointer");
        assertTrue(Long.compareUnsigned(kmain.rsp(), GuestAbi.KERNEL_VMA) >= 0, "kernel stack in the higher half");
    }

    @Test
    void identityMapDropped_switchesCr3FromTheBootPml4ToTheKernelPml4BeforeKmain() {
        long bootPml4 = boot.symbols().address("boot_pml4");
        long kernelPml4 = boot.symbols().address("kernel_pml4") - GuestAbi.KERNEL_VMA;
        assertEquals(bootPml4, at(BootStage.HIGHER_HALF).cr3(), "higher half reached on the boot tables");
        assertEquals(kernelPml4, at(BootStage.KERNEL_TABLES).cr3());
        assertEquals(kernelPml4, at(BootStage.KMAIN).cr3());
        assertTrue(Long.compareUnsigned(at(BootStage.KERNEL_TABLES).gdtr().base(), GuestAbi.KERNEL_VMA) >= 0,
                "GDTR base through the higher half: " + Long.toHexString(at(BootStage.KERNEL_TABLES).gdtr().base()));
    }

    @Test
    void endOfBoot_removingTheStageHooksAtNowUnmappedAddresses_raisesNoStrayFault() {
        // The early stages' hooks sit at identity addresses the kernel has unmapped; removing them
        // once must not fault inside Unicorn (CR2 would change and the next guest fault escalate).
        assertEquals(report.run().cpu().cr2(), boot.machine().register(X86Reg.CR2), "CR2 after the boot observer closed");
    }

    @Test
    void console_reportsMemoryMapAndServicesPresent() {
        long usableKiB = MultibootInfo.pcMemoryMap(BootOptions.DEFAULT_RAM).stream()
                .filter(e -> e.type() == MemoryMapEntry.USABLE).mapToLong(MemoryMapEntry::length).sum() / 1024;
        assertTrue(report.console().startsWith("""
                kmain: hello from the higher half
                kmain: memory map: %d KiB usable in 2 ranges
                kmain: CPUs in the ACPI MADT: 1
                kmain: shared counter after the APs: 0
                kmain: 10 local APIC timer interrupts
                kmain: kemu services present
                """.formatted(usableKiB)), report.console());
        assertTrue(report.console().endsWith("kmain: done, halting\n"), report.console());
    }
}
