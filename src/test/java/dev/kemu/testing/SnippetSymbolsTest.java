package dev.kemu.testing;

import dev.kemu.debug.FaultReport;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Labels of test snippets and files name their addresses in fault reports, describe() and block traces. */
@ExtendWith(KemuExtension.class)
class SnippetSymbolsTest {
    private static final String FAULTING_HELPER = """
                call my_memcpy
                jmp 2f
            my_memcpy:
                xor eax, eax
                movabs rdi, 0x0000100000000000
                mov qword ptr [rdi], rax           # my_memcpy+0xc
                ret
            2:
            """;

    @Test
    void faultInASnippetLabel_isReportedAsLabelPlusOffset(Guest guest) {
        GuestRun run = guest.run(FAULTING_HELPER);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason());
        FaultReport fault = run.fault().orElseThrow();
        assertEquals("my_memcpy+0xc", fault.ripSymbol());
        assertTrue(fault.disassembly().stream().anyMatch(line -> line.startsWith("=> my_memcpy+0xc")),
                fault.disassembly().toString());
        assertTrue(run.describe().contains("my_memcpy+0xc"), run.describe());
        assertTrue(run.recentBlocks().stream().anyMatch(b -> b.endsWith(" my_memcpy")), run.recentBlocks().toString());
    }

    @Test
    void faultInAFileRunByRunFile_isReportedByTheFilesLabel(Guest guest) {
        GuestRun run = guest.runFile("kernel-asm/tests/copy_to_unmapped.S");
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason());
        assertEquals("copy_qwords+0x3", run.fault().orElseThrow().ripSymbol());
    }

    @Test
    void blockTraceOfALoop_printsEachAddressOnce_andCollapsesTheRepeats(Guest guest) {
        GuestRun run = guest.budget(100).run("""
                spin:
                    jmp spin
                """);
        List<String> blocks = run.recentBlocks();
        String spin = String.format("0x%x spin", TestMachine.CODE_VA);
        assertEquals(spin, blocks.get(blocks.size() - 2), blocks.toString());
        assertTrue(blocks.getLast().matches("\\.\\.\\. \\d+ more times"), blocks.toString());
        assertTrue(blocks.size() < TestMachine.TRACE_BLOCKS, blocks.toString());
        assertTrue(run.describe().contains(spin + "\n"), run.describe());
    }

    @Test
    void blockWithoutSymbol_printsItsAddressOnce(Guest guest) {
        // Unlabelled snippet code: the address alone, not "0x... 0x...".
        GuestRun run = guest.budget(100).run("1: jmp 1b");
        String line = run.recentBlocks().getFirst();
        assertTrue(line.matches("0x[0-9a-f]+( \\S+)?") && !line.matches("(0x[0-9a-f]+) \\1"), line);
    }
}
