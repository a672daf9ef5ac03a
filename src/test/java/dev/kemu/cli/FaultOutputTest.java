package dev.kemu.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kemu.debug.CKernel;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Fault reports as a user or a tool reads them: JSON alone on its stream, text without nulls. */
class FaultOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SCHEMA = Path.of(System.getProperty("kemu.home", "."), "docs", "fault-report.schema.json");

    @TempDir
    Path dir;

    private String pageFaultKernel() {
        return TestKernels.withKmain(dir, """
                    movabs rax, 0x0000400000000000
                    mov rbx, [rax]
                    ret
                """).kernel().toString();
    }

    private String nonCanonicalKernel() {
        return TestKernels.withKmain(dir, """
                    movabs rax, 0x8000000000000000
                    mov rbx, [rax]
                    ret
                """).kernel().toString();
    }

    private static List<JsonNode> jsonLines(String text) throws Exception {
        List<JsonNode> objects = new ArrayList<>();
        for (String line : text.split("\n")) {
            JsonNode node = JSON.readTree(line);
            assertTrue(node.isObject(), "not a JSON object: " + line);
            objects.add(node);
        }
        return objects;
    }

    @Test
    void jsonFormat_writesOnlyJsonLinesToStdoutAndTheTextToStderr() throws Exception {
        CliRun run = CliRun.of("boot", "--kernel", pageFaultKernel(), "--fault-format", "json");
        assertEquals(ExitStatus.BOOT_FAILED, run.exit(), run.all());
        List<JsonNode> faults = jsonLines(run.out());
        assertEquals(1, faults.size(), run.all());
        assertEquals("0x400000000000", faults.getFirst().get("address").asText());
        assertTrue(run.err().contains("--- summary ---"), run.all());
        assertTrue(run.err().contains("kmain: hello") || run.err().contains("--- debug console ---"), run.all());
    }

    @Test
    void jsonFormatWithReportFile_writesTheJsonThereAndNothingToStdout() throws Exception {
        Path report = dir.resolve("faults.jsonl");
        CliRun run = CliRun.of("boot", "--kernel", pageFaultKernel(), "--fault-format", "json", "--report",
                report.toString());
        assertEquals("", run.out(), run.all());
        assertEquals(1, jsonLines(Files.readString(report)).size());
    }

    @Test
    void jsonReports_matchTheDocumentedSchema() throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA.toFile());
        for (String kernel : List.of(pageFaultKernel(), nonCanonicalKernel())) {
            CliRun run = CliRun.of("boot", "--kernel", kernel, "--fault-format", "json", "--trace-blocks", "4");
            for (JsonNode fault : jsonLines(run.out())) {
                List<String> problems = new ArrayList<>();
                SchemaCheck.check(schema, schema, fault, "$", problems);
                assertEquals(List.of(), problems, fault.toPrettyString());
            }
        }
    }

    @Test
    void jsonReports_useOneAddressFormatAndNullForWhatDoesNotApply() throws Exception {
        JsonNode fault = jsonLines(CliRun.of("boot", "--kernel", pageFaultKernel(), "--fault-format", "json").out())
                .getFirst();
        List<String> strings = new ArrayList<>();
        collectStrings(fault, strings);
        for (String value : strings) {
            assertFalse(value.matches("[VP]0x.*"), "address with a V/P prefix in JSON: " + value);
            assertFalse(value.equals("none") || value.equals("null"), "placeholder string in JSON: " + value);
        }
        // This kmain never initialises the memory services, so nothing is known about VMAs.
        assertTrue(fault.get("vmas").isNull(), fault.toPrettyString());
        assertTrue(fault.get("walk").get("physical").isNull(), fault.toPrettyString());
    }

    @Test
    void cKernelWithLineInformation_jsonNamesTheSourceLineAndMatchesTheSchema() throws Exception {
        assumeTrue(CKernel.addr2lineInstalled(), "addr2line (GNU binutils) is not installed: no source lines to check");
        CKernel kernel = CKernel.build(dir, "dwarf_kernel.c", CKernel.FAULTING_SOURCE, 0);
        CliRun run = CliRun.of("boot", "--kernel", kernel.images().kernel().toString(), "--fault-format", "json",
                "--trace-blocks", "4");
        JsonNode fault = jsonLines(run.out()).getFirst();
        List<String> problems = new ArrayList<>();
        SchemaCheck.check(JSON.readTree(SCHEMA.toFile()), JSON.readTree(SCHEMA.toFile()), fault, "$", problems);
        assertEquals(List.of(), problems, fault.toPrettyString());
        assertEquals(kernel.source() + ":" + kernel.lineOf("faults here"), fault.get("ripSource").asText(),
                fault.toPrettyString());
        assertTrue(fault.get("vmas").isNull(), fault.toPrettyString());
    }

    @Test
    void cKernelFaultText_namesTheLineAndSaysNothingOfVmas() {
        assumeTrue(CKernel.addr2lineInstalled(), "addr2line (GNU binutils) is not installed: no source lines to check");
        CKernel kernel = CKernel.build(dir, "dwarf_kernel.c", CKernel.FAULTING_SOURCE, 0);
        CliRun run = CliRun.of("boot", "--kernel", kernel.images().kernel().toString());
        assertTrue(run.out().contains(" (dwarf_kernel.c:" + kernel.lineOf("faults here") + ") (RIP 0x"), run.all());
        assertFalse(run.out().contains("vma"), run.all());
        assertFalse(run.out().contains("memory services"), run.all());
    }

    @Test
    void nonCanonicalFaultText_hasNoNulls() {
        CliRun run = CliRun.of("boot", "--kernel", nonCanonicalKernel());
        assertTrue(run.out().contains("non-canonical address 0x8000000000000000"), run.all());
        assertFalse(run.out().contains("null"), run.all());
    }

    @Test
    void pageFaultText_namesMissingNeighboursWithoutNull() {
        CliRun run = CliRun.of("boot", "--kernel", pageFaultKernel());
        assertTrue(run.out().contains("page walk of V0x400000000000"), run.all());
        assertFalse(run.out().contains("null"), run.all());
    }

    private static void collectStrings(JsonNode node, List<String> into) {
        if (node.isTextual()) {
            into.add(node.asText());
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            collectStrings(it.next(), into);
        }
    }
}
