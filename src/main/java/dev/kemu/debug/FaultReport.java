package dev.kemu.debug;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.List;
import java.util.Map;

/**
 * Everything known about one fault, for people ({@link #text()}) and tools ({@link #json()}).
 * Addresses are hex strings so that 64-bit values survive any JSON reader. What does not apply to a
 * fault (the address of a #UD, the walk of a #GP) is {@code null}, never a placeholder string; the
 * text leaves it out. The JSON form is documented in docs/fault-report.md and
 * docs/fault-report.schema.json.
 */
public record FaultReport(int vector, String exception, String address, String access, String mode, int errorCode,
                          List<String> errorBits, String reason, String rip, String ripSymbol, String ripSource,
                          List<String> disassembly,
                          Walk walk, Vmas vmas, Map<String, String> registers, List<String> recentBlocks,
                          String outcome, @JsonInclude(JsonInclude.Include.NON_NULL) String cpu,
                          @JsonInclude(JsonInclude.Include.NON_NULL) Space space) {

    /** A report that names no address space (the kernel does not use kemu's spaces). */
    public FaultReport(int vector, String exception, String address, String access, String mode, int errorCode,
                       List<String> errorBits, String reason, String rip, String ripSymbol, String ripSource,
                       List<String> disassembly, Walk walk, Vmas vmas, Map<String, String> registers,
                       List<String> recentBlocks, String outcome, String cpu) {
        this(vector, exception, address, access, mode, errorCode, errorBits, reason, rip, ripSymbol, ripSource,
                disassembly, walk, vmas, registers, recentBlocks, outcome, cpu, null);
    }

    /** A report of a machine with one CPU, which names none. */
    public FaultReport(int vector, String exception, String address, String access, String mode, int errorCode,
                       List<String> errorBits, String reason, String rip, String ripSymbol, String ripSource,
                       List<String> disassembly, Walk walk, Vmas vmas, Map<String, String> registers,
                       List<String> recentBlocks, String outcome) {
        this(vector, exception, address, access, mode, errorCode, errorBits, reason, rip, ripSymbol, ripSource,
                disassembly, walk, vmas, registers, recentBlocks, outcome, null, null);
    }

    /**
     * The address space CR3 selected at the fault: {@code name} "space 2 of 3, PML4 P0x..." (counted oldest
     * first; {@code id} its creation serial) or "kernel address space"; for a #PF in a space's user half,
     * what kemu's fault handler found ({@code handler}, a {@code SpaceFault.Resolution} in lower case such as
     * "access_denied", and {@code handling} in words), else null.
     */
    public record Space(String name, String pml4, Integer id, String handler, String handling) {
        /** "space 2 of 3, PML4 P0x...: the VMA's flags forbid the access (...)" */
        public String text() {
            return handling == null ? name : name + ": kemu's fault handler found " + handling;
        }
    }

    /**
     * The page walk of the faulting address in the CPU's paging mode ({@code mode}: "32-bit paging", "PAE",
     * "4-level", "5-level" or "no paging"), whose terms the levels use (PD and PT of 1024 entries in 32-bit paging).
     */
    public record Walk(String address, String cr3, List<Level> levels, String physical, String pageSize, String stopped,
                       String mode) {
        /** One line per level, then where the walk ended. */
        public String text() {
            StringBuilder t = new StringBuilder("page walk of " + address + " (" + mode + ", CR3 " + cr3 + ")\n");
            for (Level l : levels) {
                t.append(String.format("  %-4s %s[%4d] @ %s = %s [%s]%n", l.table(), l.tableAddress(), l.index(),
                        l.entryAddress(), l.entry(), l.flags()));
            }
            t.append(physical != null ? "  -> " + physical + " (" + pageSize + " page)\n" : "  stopped: " + stopped + "\n");
            return t.toString();
        }
    }

    /** One paging-structure entry visited by the walk. */
    public record Level(String table, String tableAddress, int index, String entryAddress, String entry, String flags) {}

    /**
     * The VMA holding the address, or its nearest neighbours ({@code null} when there is none on that side).
     * A report has none at all (a null {@code vmas}) when the kernel never initialised kemu's memory services.
     */
    public record Vmas(String containing, String below, String above) {
        /** One line: the VMA, or "none" with both neighbours. */
        public String text() {
            return containing != null ? containing
                    : "none; below: " + (below == null ? "none" : below) + "; above: " + (above == null ? "none" : above);
        }
    }

    /** Compact, so that a stream of reports is one JSON object per line. */
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);

    public FaultReport withOutcome(String newOutcome) {
        return new FaultReport(vector, exception, address, access, mode, errorCode, errorBits, reason, rip, ripSymbol,
                ripSource, disassembly, walk, vmas, registers, recentBlocks, newOutcome, cpu, space);
    }

    /** One line of JSON: addresses as {@code 0x...} (the field says whether physical or virtual), nulls for what does not apply. */
    public String json() {
        try {
            return JSON.writeValueAsString(forTools());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fault report not serialisable", e);
        }
    }

    /** The same facts with one address format (no V/P prefix) and no placeholder strings. */
    private FaultReport forTools() {
        Walk plainWalk = walk == null ? null : new Walk(plain(walk.address()), plain(walk.cr3()),
                walk.levels().stream().map(l -> new Level(l.table(), plain(l.tableAddress()), l.index(),
                        plain(l.entryAddress()), plain(l.entry()), l.flags())).toList(),
                plain(walk.physical()), walk.pageSize(), walk.stopped(), walk.mode());
        List<String> bits = errorBits.equals(List.of("none")) ? List.of() : errorBits;
        return new FaultReport(vector, exception, plain(address), access, mode, errorCode, bits, reason, plain(rip),
                ripSymbol, ripSource, disassembly, plainWalk, vmas, registers, recentBlocks, outcome, cpu,
                space == null ? null : new Space(space.name(), plain(space.pml4()), space.id(), space.handler(),
                        space.handling()));
    }

    /** {@code kernel.c:42} of {@code /home/me/os/kernel.c:42}. */
    private static String shortSource(String source) {
        int slash = source.lastIndexOf('/');
        return slash >= 0 ? source.substring(slash + 1) : source;
    }

    /** {@code 0x} and hex without leading zeros: the text form pads 32-bit addresses and entries to 8 digits. */
    private static String plain(String address) {
        if (address == null || !address.matches("[VP]?0x\\p{XDigit}+")) {
            return address;
        }
        String digits = address.substring(address.indexOf('x') + 1);
        return "0x" + Long.toHexString(Long.parseUnsignedLong(digits, 16));
    }

    public String text() {
        StringBuilder t = new StringBuilder();
        t.append("=== ").append(exception).append(" at ").append(ripSymbol);
        if (ripSource != null) {
            t.append(" (").append(shortSource(ripSource)).append(')');
        }
        t.append(" (RIP ").append(rip).append(')');
        if (cpu != null) {
            t.append(" on ").append(cpu);
        }
        t.append(" ===\n");
        if (address != null) {
            t.append("address   ").append(address);
            t.append(access != null && mode != null ? " (" + access + ", " + mode + ")\n" : "\n");
        }
        t.append(String.format("error     0x%x%s%n", errorCode,
                errorBits.isEmpty() || errorBits.equals(List.of("none")) ? "" : " " + errorBits));
        t.append("reason    ").append(reason).append('\n');
        if (space != null) {
            t.append("space     ").append(space.text()).append('\n');
        }
        if (outcome != null && !outcome.isEmpty()) {
            t.append("outcome   ").append(outcome).append('\n');
        }
        t.append("code\n");
        disassembly.forEach(line -> t.append("  ").append(line).append('\n'));
        if (walk != null) {
            t.append(walk.text());
        }
        if (vmas != null) {
            t.append("vma       ").append(vmas.text()).append('\n');
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
            t.append(cpu == null ? "recent blocks (oldest first)\n" : "recent blocks on " + cpu + " (oldest first)\n");
            recentBlocks.forEach(b -> t.append("  ").append(b).append('\n'));
        }
        return t.toString();
    }
}
