package dev.kemu.debug;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.ExceptionVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A kernel's own C code, built with gcc -g: its fault report names the faulting source line. */
class SourceLineReportTest {
    @TempDir
    static Path dir;
    static CKernel kernel;

    @BeforeAll
    static void build() {
        assumeTrue(CKernel.addr2lineInstalled(), "addr2line (GNU binutils) is not installed: no source lines to check");
        kernel = CKernel.build(dir, "dwarf_kernel.c", CKernel.FAULTING_SOURCE, 0);
    }

    private static FaultReport onlyFault(BootOptions options) {
        try (KernelBoot boot = new KernelBoot(kernel.images(), options)) {
            BootReport report = boot.run();
            assertEquals(1, report.faults().size(), report.faults().toString());
            return report.faults().getFirst();
        }
    }

    @Test
    void pageFaultInC_reportNamesTheFaultingFileAndLine() {
        FaultReport fault = onlyFault(BootOptions.defaults());
        String expected = "dwarf_kernel.c:" + kernel.lineOf("faults here");
        assertEquals(ExceptionVector.PF, fault.vector());
        assertTrue(fault.ripSymbol().matches("read_unmapped\\+0x\\p{XDigit}+"), fault.ripSymbol());
        assertEquals(kernel.source().toString() + ":" + kernel.lineOf("faults here"), fault.ripSource());
        assertTrue(fault.text().startsWith("=== " + fault.exception() + " at " + fault.ripSymbol() + " (" + expected
                + ") (RIP "), fault.text());
    }

    @Test
    void kernelWithoutMemoryServices_reportSaysNothingAboutVmas() throws Exception {
        FaultReport fault = onlyFault(BootOptions.defaults());
        assertEquals(null, fault.vmas());
        assertFalse(fault.text().contains("vma"), fault.text());
        assertFalse(fault.text().contains("memory services"), fault.text());
        JsonNode json = new ObjectMapper().readTree(fault.json());
        assertTrue(json.get("vmas").isNull(), fault.json());
        assertTrue(json.get("ripSource").asText().endsWith("dwarf_kernel.c:" + kernel.lineOf("faults here")), fault.json());
    }

    @Test
    void blockTrace_namesTheSourceLineOfEachBlock() {
        FaultReport fault = onlyFault(BootOptions.defaults().withBlockTrace(4));
        // A block at a function's entry belongs to its first lines (gcc names the line of the opening brace).
        Pattern kmainBlock = Pattern.compile("0x\\p{XDigit}+ kmain(\\+0x\\p{XDigit}+)? \\(dwarf_kernel\\.c:(\\d+)\\)");
        int line = fault.recentBlocks().stream().map(kmainBlock::matcher).filter(Matcher::matches)
                .mapToInt(m -> Integer.parseInt(m.group(2))).findFirst()
                .orElseThrow(() -> new AssertionError("no block of kmain with a source line: " + fault.recentBlocks()));
        assertTrue(line >= kernel.lineOf("void kmain") && line <= kernel.lineOf("read_unmapped(7)"),
                line + " is not a line of kmain: " + fault.recentBlocks());
    }
}
