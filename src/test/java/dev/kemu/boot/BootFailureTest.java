package dev.kemu.boot;

import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kernels that never finish cleanly must end with a non-success report that names the stage and the cause. */
class BootFailureTest {
    @TempDir
    Path dir;

    private BootReport boot(KernelSources.BuiltImages images, BootOptions options) {
        try (KernelBoot boot = new KernelBoot(images, options)) {
            return boot.run();
        }
    }

    @Test
    void kmainTouchingUnmappedMemory_isReportedAsTripleFaultInKmainStage() {
        BootReport report = boot(TestKernels.withKmain(dir, """
                    movabs rax, 0x0000400000000000
                    mov rbx, [rax]
                    ret
                """), BootOptions.defaults());
        assertFalse(report.succeeded());
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason());
        assertEquals(ExceptionVector.PF, report.run().vector());
        String failure = report.failure().orElseThrow();
        assertTrue(failure.startsWith("triple fault in stage 'kmain': #PF page fault (vector 14) at kmain+0xa"), failure);
        assertTrue(failure.contains("no IDT is loaded"), failure);
    }

    @Test
    void faultBeforeKmain_namesTheEarlierStage() {
        // A trampoline-stage fault: kmain is never reached because boot.S is replaced by one
        // whose 32-bit entry executes ud2 right after the magic check.
        Path boot = TestKernels.write(dir, "boot-ud2.S", """
                .intel_syntax noprefix
                .include "kemu.inc"
                .section .multiboot, "a"
                .align 4
                .long MULTIBOOT_HEADER_MAGIC, MULTIBOOT_HEADER_FLAGS, -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)
                .section .boot.text, "ax"
                .code32
                .global _start, boot_paging_on, boot_info_phys, boot_pml4
                _start:
                    ud2
                boot_paging_on:
                    hlt
                .section .boot.data, "aw"
                boot_info_phys: .long 0
                boot_pml4: .long 0
                """);
        KernelSources.BuiltImages images = KernelSources.defaults().with("boot.S", boot).build();
        BootReport report = boot(images, BootOptions.defaults());
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason());
        assertEquals(ExceptionVector.UD, report.run().vector());
        assertTrue(report.failure().orElseThrow().startsWith("triple fault in stage '32-bit entry': #UD invalid opcode"),
                report.failure().get());
        assertFalse(report.reached(BootStage.PAGING_ON));
    }

    @Test
    void endlessLoopInKmain_endsAtTheInstructionBudget() {
        BootReport report = boot(TestKernels.withKmain(dir, """
                1:  jmp 1b
                """), BootOptions.defaults().withBudget(200_000));
        assertEquals(StopReason.BUDGET_EXHAUSTED, report.run().reason());
        assertEquals(200_000, report.run().instructions());
        String failure = report.failure().orElseThrow();
        assertTrue(failure.startsWith("instruction budget of 200000 exhausted in stage 'kmain' at kmain"), failure);
    }

    @Test
    void haltBeforeExitPort_isASuccessWhenKmainWasReached() {
        BootReport report = boot(TestKernels.withKmain(dir, """
                    cli
                    hlt
                """), BootOptions.defaults());
        assertEquals(StopReason.HALTED, report.run().reason(), report.run().detail());
        assertTrue(report.succeeded(), report.failure().orElse(""));
    }

    @Test
    void kernelWithoutSymbols_bootsAndShowsEveryStageTheCpuPassesThrough() throws Exception {
        // Stages come from the CPU, not from symbols: stripped, kemu's kernel shows the same stage lines
        // as in the golden boot, except kmain, which only a symbol can name.
        KernelSources.BuiltImages images = TestKernels.defaultKernel();
        Path stripped = dir.resolve("stripped.elf");
        Process strip = new ProcessBuilder("objcopy", "--strip-all", images.kernel().toString(), stripped.toString())
                .inheritIO().start();
        assertEquals(0, strip.waitFor(), "objcopy --strip-all");
        BootReport report = boot(new KernelSources.BuiltImages(images.firmware(), stripped), BootOptions.defaults());
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
        assertTrue(report.succeeded(), report.failure().orElse(""));
        List<String> golden = Files.readAllLines(KernelSources.home().resolve("src/test/resources/golden/boot-stages.txt"));
        List<String> expected = golden.subList(0, golden.indexOf("--- console ---")).stream()
                .filter(line -> !line.startsWith("kmain ")).toList();
        assertEquals(expected, report.stages().stream().map(StageEvent::line).toList());
    }

    @Test
    void ramOutsideWhatTheMemoryMapCanDescribe_isRefusedBeforeAnyMachineIsBuilt() {
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> BootOptions.defaults().withRam(1_000_000L << 20));
        assertEquals("guest RAM of 1048576000000 bytes: must be a multiple of 4 KiB from 2 MiB to 3072 MiB",
                big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BootOptions.defaults().withRam(1L << 20));
        assertThrows(IllegalArgumentException.class, () -> BootOptions.defaults().withRam((64L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> BootOptions.defaults().withBudget(-1));
        assertThrows(IllegalArgumentException.class, () -> BootOptions.defaults().withBlockTrace(-1));
        assertThrows(IllegalArgumentException.class, () -> BootOptions.defaults().withTimeout(Duration.ofSeconds(-1)));
    }

    @Test
    void wallClockLimit_stopsARunawayGuestThatHasNoBudget() {
        BootReport report = boot(TestKernels.withKmain(dir, """
                1:  jmp 1b
                """), BootOptions.defaults().withBudget(0).withTimeout(Duration.ofMillis(300)));
        assertEquals(StopReason.TIMEOUT, report.run().reason(), report.run().detail());
        assertFalse(report.run().counted());
        assertTrue(report.failure().orElseThrow().startsWith("timed out in stage 'kmain'"), report.failure().get());
    }
}
