package dev.kemu.boot.stages;

import dev.kemu.boot.BootObserver;
import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootStage;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.StageEvent;
import dev.kemu.boot.StageLandmarks;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How long the observer samples blocks, and which of its hooks can go during the run. */
class BootObserverSamplingTest {
    @TempDir
    Path dir;

    private record Observed(List<BootStage> stages, StopReason stop, long blocks, boolean samplingAfterRun,
                            boolean lowRemovedInRun, boolean highRemovedInRun, boolean lowRemovedAfterClose) {}

    private static Observed observe(KernelSources.BuiltImages images) {
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            StageLandmarks landmarks = StageLandmarks.of(ElfImage.read(images.firmware()), boot.kernel());
            BootObserver observer = new BootObserver(boot.machine(), landmarks, true, event -> { });
            StopReason stop = boot.machine().run(boot.symbols().address("fw_entry"),
                    new RunLimits(BootOptions.DEFAULT_BUDGET, Duration.ofSeconds(30))).reason();
            Observed seen = new Observed(observer.events().stream().map(StageEvent::stage).toList(), stop,
                    observer.sampledBlocks(), observer.sampling(), observer.lowBlockHookRemoved(),
                    observer.highBlockHookRemoved(), false);
            observer.close();
            return new Observed(seen.stages(), seen.stop(), seen.blocks(), seen.samplingAfterRun(),
                    seen.lowRemovedInRun(), seen.highRemovedInRun(), observer.lowBlockHookRemoved());
        }
    }

    @Test
    void kemusKernel_samplingEndsAtKmain_theUpperHookGoesDuringTheRun_theLowerOneAfterIt() {
        Observed seen = observe(TestKernels.defaultKernel());
        // Every stage but the Limine protocol's 64-bit entry, which a Multiboot kernel never has.
        assertEquals(Arrays.stream(BootStage.values()).filter(stage -> stage != BootStage.ENTRY_64).toList(),
                seen.stages());
        assertEquals(StopReason.EXIT_PORT, seen.stop());
        assertFalse(seen.samplingAfterRun(), "every stage reached at kmain");
        assertTrue(seen.highRemovedInRun(), "higher-half blocks are all still mapped at kmain");
        assertFalse(seen.lowRemovedInRun(), "the boot code's identity pages are unmapped: removal waits for the run's end");
        assertTrue(seen.lowRemovedAfterClose());
        assertTrue(seen.blocks() > 0 && seen.blocks() < BootObserver.BLOCK_WINDOW, "blocks sampled: " + seen.blocks());
    }

    @Test
    void kernelThatStaysIn32BitMode_samplingEndsAWindowAfterTheLastStage_andBothHooksGoDuringTheRun() throws Exception {
        int iterations = 2 * BootObserver.BLOCK_WINDOW;
        Observed seen = observe(TinyKernels.build(dir, "spin32", """
                    mov ecx, %d
                1:  dec ecx
                    jnz 1b
                """.formatted(iterations) + TinyKernels.SAY_OK_AND_EXIT, true));
        assertEquals(List.of(BootStage.FIRMWARE_HANDOFF, BootStage.ENTRY_32), seen.stages());
        assertEquals(StopReason.EXIT_PORT, seen.stop());
        assertFalse(seen.samplingAfterRun());
        assertTrue(seen.lowRemovedInRun() && seen.highRemovedInRun(), "paging is off: every block page translates");
        assertTrue(seen.blocks() > BootObserver.BLOCK_WINDOW && seen.blocks() <= BootObserver.BLOCK_WINDOW + 2,
                "sampling stopped after the window, not at the end of the loop: " + seen.blocks() + " blocks");
    }

    @Test
    void runStoppedAtTheHandoffAndResumedThere_theEntryStageIsStillTheKernelsEntry() throws Exception {
        // A run that stops between the handoff hook and the firmware's jump (a budget, a host-time stop)
        // resumes with a block at the handoff, translated with the block hooks: that block is not the entry.
        KernelSources.BuiltImages images = TinyKernels.build(dir, "stopped", TinyKernels.SAY_OK_AND_EXIT, false);
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            StageLandmarks landmarks = StageLandmarks.of(ElfImage.read(images.firmware()), boot.kernel());
            BootObserver observer = new BootObserver(boot.machine(), landmarks, true, event -> { });
            boolean[] stopped = {false};
            boot.machine().onInstructionAt(landmarks.firmwareHandoff(), () -> {
                if (!stopped[0]) {
                    stopped[0] = true;
                    boot.machine().requestStop(StopReason.REACHED_END, 0, "stopped at the handoff");
                }
            });
            RunLimits limits = new RunLimits(BootOptions.DEFAULT_BUDGET, Duration.ofSeconds(30));
            StopReason first = boot.machine().run(boot.symbols().address("fw_entry"), limits).reason();
            assertEquals(StopReason.REACHED_END, first);
            StopReason second = boot.machine().run(landmarks.firmwareHandoff(), limits).reason();
            assertEquals(StopReason.EXIT_PORT, second);
            StageEvent entry = observer.events().stream().filter(event -> event.stage() == BootStage.ENTRY_32)
                    .findFirst().orElseThrow();
            assertEquals(boot.kernel().entry(), entry.cpu().rip(), entry.line());
            observer.close();
        }
    }
}
