package dev.kemu.boot.stages;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.StageEvent;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kernels that are not kemu's: symbol-less, staying in 32-bit mode, paging without long mode,
 * long mode without a higher half. The stage lines say what the CPU did, without warnings, and a
 * kernel that writes the exit port without a kmain has succeeded.
 */
class ForeignKernelStagesTest {
    @TempDir
    Path dir;

    private static BootReport boot(KernelSources.BuiltImages images) {
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            return boot.run();
        }
    }

    private static List<BootStage> stages(BootReport report) {
        return report.stages().stream().map(StageEvent::stage).toList();
    }

    private static void assertCleanExit(BootReport report) {
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
        assertEquals("ok", report.console());
        assertTrue(report.succeeded(), report.failure().orElse(""));
        report.stages().forEach(event -> assertTrue(event.violations().isEmpty(), event.line()));
        report.stages().forEach(event -> assertFalse(event.line().contains("!!"), event.line()));
    }

    @Test
    void symbolLessKernelStayingIn32BitProtectedMode_reachesOnlyHandoffAndEntry() throws Exception {
        KernelSources.BuiltImages images = TinyKernels.build(dir, "flat32", TinyKernels.SAY_OK_AND_EXIT, true);
        assertTrue(ElfImage.read(images.kernel()).symbols().find("_start").isEmpty(), "the image is stripped");
        BootReport report = boot(images);
        assertCleanExit(report);
        assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32), stages(report));
        StageEvent entry = report.stage(BootStage.ENTRY_32).orElseThrow();
        assertEquals(ElfImage.read(images.kernel()).entry(), entry.cpu().rip(), "the ELF entry point");
        assertFalse(entry.longModeCode());
        assertTrue(entry.codeSegment().defaultSize32(), "a 32-bit code segment: " + entry.codeSegment());
    }

    @Test
    void kernelEnabling32BitPagingWithoutLongMode_reachesPagingOnOnly() throws Exception {
        // One 4 MiB page (CR4.PSE) maps the first 4 MiB onto themselves; no PAE, no EFER.LME.
        BootReport report = boot(TinyKernels.build(dir, "paging32", """
                    mov dword ptr [page_directory], 0x83
                    mov eax, cr4
                    or eax, 0x10
                    mov cr4, eax
                    lea eax, [page_directory]
                    mov cr3, eax
                    mov eax, cr0
                    or eax, 0x80000000
                    mov cr0, eax
                paged:
                """ + TinyKernels.SAY_OK_AND_EXIT + """
                .bss
                .align 4096
                page_directory: .skip 4096
                """, false));
        assertCleanExit(report);
        assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32, BootStage.PAGING_ON), stages(report));
        CpuState paging = report.stage(BootStage.PAGING_ON).orElseThrow().cpu();
        assertTrue(paging.pagingEnabled());
        assertFalse(paging.longModeActive());
        assertEquals(0, paging.cr4() & CpuState.CR4_PAE);
        assertFalse(report.stage(BootStage.PAGING_ON).get().longModeCode());
    }

    @Test
    void kernelEnteringLongModeBelowTheHigherHalf_reachesLongModeButNotTheHigherHalf() throws Exception {
        KernelSources.BuiltImages images = TinyKernels.build(dir, "long64", """
                    # Identity-map the first 2 MiB with one large page: PML4 -> PDPT -> PD.
                    lea eax, [pdpt + 3]
                    mov [pml4], eax
                    lea eax, [pd + 3]
                    mov [pdpt], eax
                    mov dword ptr [pd], 0x83
                    lea eax, [pml4]
                    mov cr3, eax
                    mov eax, cr4
                    or eax, 0x20
                    mov cr4, eax
                    mov ecx, 0xC0000080
                    rdmsr
                    or eax, 0x100
                    wrmsr
                    mov eax, cr0
                    or eax, 0x80000000
                    mov cr0, eax
                    lgdt [gdt_pointer]
                    ljmp 0x08, offset entry64
                .code64
                entry64:
                """ + TinyKernels.SAY_OK_AND_EXIT + """
                .data
                .align 8
                gdt: .quad 0, 0x00af9a000000ffff
                gdt_pointer: .word 15
                             .long gdt
                .bss
                .align 4096
                pml4: .skip 4096
                pdpt: .skip 4096
                pd: .skip 4096
                """, false);
        BootReport report = boot(images);
        assertCleanExit(report);
        assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32, BootStage.PAGING_ON, BootStage.LONG_MODE),
                stages(report));
        StageEvent paging = report.stage(BootStage.PAGING_ON).orElseThrow();
        assertTrue(paging.cpu().longModeActive(), "EFER.LMA follows CR0.PG with LME set");
        assertFalse(paging.longModeCode(), "still running the 32-bit code segment: compatibility mode");
        StageEvent longMode = report.stage(BootStage.LONG_MODE).orElseThrow();
        assertEquals(ElfImage.read(images.kernel()).symbols().address("entry64"), longMode.cpu().rip(),
                "the first 64-bit block is the far jump's target");
        assertTrue(longMode.codeSegment().longMode(), longMode.codeSegment().toString());
        assertEquals(0x08, longMode.cpu().cs());
    }

    @Test
    void kernelWithAKernelMainSymbol_reachesThatStageAtItsFirstInstruction() throws Exception {
        KernelSources.BuiltImages images = TinyKernels.build(dir, "withmain", """
                    call kernel_main
                .global kernel_main
                kernel_main:
                """ + TinyKernels.SAY_OK_AND_EXIT, false);
        BootReport report = boot(images);
        assertCleanExit(report);
        assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32, BootStage.KMAIN), stages(report));
        assertEquals(ElfImage.read(images.kernel()).symbols().address("kernel_main"),
                report.stage(BootStage.KMAIN).orElseThrow().cpu().rip());
    }

    @Test
    void kernelWithKmainThatStopsBeforeIt_failsNamingTheSymbol() throws Exception {
        BootReport report = boot(TinyKernels.build(dir, "nomain", """
                    cli
                    hlt
                .global kmain
                kmain:
                    ret
                """, false));
        assertEquals(StopReason.HALTED, report.run().reason(), report.run().detail());
        String failure = report.failure().orElseThrow();
        assertTrue(failure.startsWith("the guest stopped in stage '32-bit entry' (hlt at ") && failure.endsWith(
                "without reaching kmain"), failure);
    }
}
