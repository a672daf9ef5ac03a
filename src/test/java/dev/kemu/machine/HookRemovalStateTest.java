package dev.kemu.machine;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfImage;
import dev.kemu.testutil.TestKernels;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Removing a code hook makes Unicorn invalidate translations, and that re-translates code at
 * addresses that may no longer be mapped (the kernel dropped the low identity map). The
 * swallowed fault must leave no trace in the CPU: neither CR2 nor Unicorn's {@code old_exception},
 * which would escalate the guest's next #PF to #DF.
 */
class HookRemovalStateTest {
    @TempDir
    Path dir;

    private static final String KMAIN = """
                nop
                nop
            counted_end:
                nop
                nop
            uncounted_end:
                mov rax, qword ptr [0x2000]        # the low half is unmapped after the boot: #PF
                hlt
            """;

    @Test
    void uncountedRunAfterACountedOne_removesTheCounter_withoutTouchingCr2OrEscalatingTheNextPageFault() {
        KernelSources.BuiltImages images = TestKernels.withKmain(dir, KMAIN);
        long firmwareEntry = ElfImage.read(images.firmware()).symbols().address("fw_entry");
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            Machine machine = boot.machine();
            long countedEnd = boot.symbols().address("counted_end");
            long uncountedEnd = boot.symbols().address("uncounted_end");
            // A counted boot: the instruction counter gets instrumented into the low-half boot code too.
            RunResult counted = machine.run(firmwareEntry, countedEnd, RunLimits.budget(10_000_000));
            assertEquals(StopReason.REACHED_END, counted.reason(), counted.detail());
            machine.setRegister(X86Reg.CR2, 0x1234_5000L);
            RunResult uncounted = machine.run(countedEnd, uncountedEnd, RunLimits.UNCOUNTED); // removes the counter
            assertEquals(StopReason.REACHED_END, uncounted.reason(), uncounted.detail());
            long cr2AfterRemoval = machine.register(X86Reg.CR2);

            List<CpuException> seen = new ArrayList<>();
            machine.setExceptionHandler((m, exception) -> {
                seen.add(exception);
                return ExceptionOutcome.STOP;
            });
            RunResult faulting = machine.run(uncountedEnd, RunLimits.UNCOUNTED);
            assertEquals(StopReason.UNHANDLED_EXCEPTION, faulting.reason(), faulting.detail() + " " + seen);
            assertEquals(1, seen.size(), seen.toString());
            assertEquals(ExceptionVector.PF, seen.getFirst().vector(), "the load is a #PF, not escalated to #DF");
            assertEquals(0x2000, seen.getFirst().cr2());
            assertEquals(0x1234_5000L, cr2AfterRemoval, "CR2 after removing the counter");
        }
    }
}
