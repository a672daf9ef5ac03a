package dev.kemu.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kemu.debug.FaultReport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The optional {@code cpu} field of a multi-CPU fault report is in the documented schema; a bad name is not. */
class CpuFieldSchemaTest {
    private static final Path SCHEMA = Path.of(System.getProperty("kemu.home", "."), "docs", "fault-report.schema.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static FaultReport report(String cpu) {
        return new FaultReport(6, "#UD invalid opcode (vector 6)", null, null, null, 0, List.of(), "invalid opcode",
                "V0x10000", "0x10000", null, List.of(), null, null, Map.of("rip", "0x10000"), List.of(),
                "guest stopped (--on-fault=report)", cpu);
    }

    private static List<String> problems(FaultReport report) throws Exception {
        JsonNode schema = JSON.readTree(SCHEMA.toFile());
        List<String> problems = new ArrayList<>();
        SchemaCheck.check(schema, schema, JSON.readTree(report.json()), "$", problems);
        return problems;
    }

    @Test
    void aReportNamingCpu1_andOneNamingNone_matchTheSchema() throws Exception {
        assertEquals(List.of(), problems(report("cpu1")));
        assertEquals(List.of(), problems(report(null)));
    }

    @Test
    void aCpuFieldThatIsNotCpuN_isRejectedByTheSchema() throws Exception {
        assertTrue(problems(report("core 1")).stream().anyMatch(p -> p.contains("cpu")), "the pattern holds");
    }
}
