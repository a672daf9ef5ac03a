package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A protected-mode kernel's own handlers through 32-bit IDT gates under the default policy
 * ({@link ProtectedModeKernel}): every vector the emulated CPU raises in protected mode with
 * paging off arrives with the SDM's error code and EIP (fault: the instruction; trap: the next
 * one), and the ring-3 fault is taken on the TSS's SS0:ESP0 with the user SS:ESP pushed.
 */
class ProtectedModeHandlersTest {
    @TempDir
    Path dir;

    static BootReport bootUnderKemu(Path kernel, SymbolTable[] symbols) {
        KernelSources.BuiltImages images = new KernelSources.BuiltImages(
                KernelSources.defaults().build().firmware(), kernel);
        try (KernelBoot boot = new KernelBoot(images, BootOptions.defaults())) {
            symbols[0] = boot.symbols();
            return boot.run();
        }
    }

    @Test
    void everyVector_reachesTheKernelsOwnHandler_withTheArchitecturesFrame() {
        SymbolTable[] symbols = new SymbolTable[1];
        BootReport report = bootUnderKemu(ProtectedModeKernel.build(dir, true), symbols);
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + "\n" + report.console()
                + report.faults());
        assertEquals(ProtectedModeKernel.EXIT_VALUE, report.run().exitCode());
        List<String> lines = report.console().lines().toList();
        List<String> vectorsAndErrors = lines.stream().map(line -> line.replaceAll(" eip \\w+", "")).toList();
        assertEquals(List.of(
                "vector 00000000 cpl 00000000",                        // #DE
                "vector 00000001 cpl 00000000",                        // #DB single step
                "vector 00000003 cpl 00000000",                        // #BP
                "vector 00000004 cpl 00000000",                        // #OF
                "vector 00000005 cpl 00000000",                        // #BR
                "vector 00000006 cpl 00000000",                        // #UD
                "vector 00000007 cpl 00000000",                        // #NM
                "vector 0000000d error 00001230 cpl 00000000",         // #GP(selector)
                "vector 0000000b error 00000030 cpl 00000000",         // #NP(selector)
                "vector 0000000c error 00000030 cpl 00000000",         // #SS(selector)
                "vector 0000000a error 0000000c cpl 00000000",         // #TS(back link)
                "vector 00000010 cpl 00000000",                        // #MF
                String.format("vector 00000006 cpl 00000003 ss:esp 00000023:%08x",
                        ProtectedModeKernel.USER_STACK_TOP)),          // #UD in ring 3
                vectorsAndErrors, report.console());
        long userCode = symbols[0].address("user_code");
        assertTrue(lines.getLast().contains(String.format(" eip %08x ", userCode)), lines.getLast());
        assertEquals(13, report.faults().size(), report.faults().toString());
        assertTrue(report.faults().stream().allMatch(f -> f.outcome().startsWith("delivered")), report.faults().toString());
    }

    @Test
    void taskGate_isRefusedWithAReasonNamingIt() {
        Path kernel = ProtectedModeKernel.build(dir, true, ProtectedModeKernel.SOURCE.replace(
                "SET_GATE 0, isr_0, 0x8E00", "SET_GATE 0, isr_0, 0x8500"));
        BootReport report = bootUnderKemu(kernel, new SymbolTable[1]);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
        String outcome = report.faults().getFirst().outcome();
        assertTrue(outcome.startsWith("not delivered: the IDT gate for vector 0 is a task gate"), outcome);
        assertTrue(outcome.contains("use type 0xE or 0xF"), outcome);
    }
}
