package dev.kemu.debug;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.List;
import java.util.Map;

/**
 * Everything known about one fault, for people ({@link #text()}) and tools ({@link #json()}).
 * Addresses are hex strings so that 64-bit values survive any JSON reader.
 */
public record FaultReport(int vector, String exception, String address, String access, String mode, int errorCode,
                          List<String> errorBits, String reason, String rip, String ripSymbol, List<String> disassembly,
                          Walk walk, Vmas vmas, Map<String, String> registers, List<String> recentBlocks,
                          String outcome) {

    /** The page walk of the faulting address. */
    public record Walk(String address, String cr3, List<Level> levels, String physical, String pageSize, String stopped) {
        /** One line per level, then where the walk ended. */
        public String text() {
            StringBuilder t = new StringBuilder("page walk of " + address + " (CR3 " + cr3 + ")\n");
            for (Level l : levels) {
                t.append(String.format("  %-4s %s[%3d] @ %s = %s [%s]%n", l.table(), l.tableAddress(), l.index(),
                        l.entryAddress(), l.entry(), l.flags()));
            }
            t.append(physical != null ? "  -> " + physical + " (" + pageSize + " page)\n" : "  stopped: " + stopped + "\n");
            return t.toString();
        }
    }

    /** One paging-structure entry visited by the walk. */
    public record Level(String table, String tableAddress, int index, String entryAddress, String entry, String flags) {}

    /** The VMA holding the address, or its nearest neighbours. */
    public record Vmas(String containing, String below, String above) {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public FaultReport withOutcome(String newOutcome) {
        return new FaultReport(vector, exception, address, access, mode, errorCode, errorBits, reason, rip, ripSymbol,
                disassembly, walk, vmas, registers, recentBlocks, newOutcome);
    }

    public String json() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fault report not serialisable", e);
        }
    }

    public String text() {
        StringBuilder t = new StringBuilder();
        t.append("=== ").append(exception).append(" at ").append(ripSymbol).append(" (RIP ").append(rip).append(") ===\n");
        if (address != null) {
            t.append(String.format("address   %s (%s, %s)%n", address, access, mode));
        }
        t.append(String.format("error     0x%x %s%n", errorCode, errorBits));
        t.append("reason    ").append(reason).append('\n');
        t.append("outcome   ").append(outcome).append('\n');
        t.append("code\n");
        disassembly.forEach(line -> t.append("  ").append(line).append('\n'));
        if (walk != null) {
            t.append(walk.text());
        }
        if (vmas != null) {
            t.append("vma       ").append(vmas.containing() != null ? vmas.containing()
                    : "none; below: " + vmas.below() + "; above: " + vmas.above()).append('\n');
        }
        t.append("registers\n");
        int column = 0;
        for (var register : registers.entrySet()) {
            t.append(String.format("  %-6s %s", register.getKey(), register.getValue()));
            if (++column % 3 == 0) {
                t.append('\n');
            }
        }
        if (column % 3 != 0) {
            t.append('\n');
        }
        if (!recentBlocks.isEmpty()) {
            t.append("recent blocks (oldest first)\n");
            recentBlocks.forEach(b -> t.append("  ").append(b).append('\n'));
        }
        return t.toString();
    }
}
