package dev.kemu.gdb;

import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultReport;
import dev.kemu.debug.MemoryReport;
import dev.kemu.elf.Symbol;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.Snapshot;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** gdb's {@code monitor ...} commands: kemu's views of the machine, as text for gdb's console. */
final class MonitorCommands {
    private static final String HELP = """
            kemu monitor commands:
              explain ADDR|SYMBOL   the page walk of a virtual address, its VMA and symbol
              fault                 the report of the last fault
              mm                    physical map, slabinfo, VMAs (when kemu's memory services run)
              tlb                   every mapped range of the current CR3, with flags
              idt | gdt             the descriptor tables the CPU uses
              phys ADDR LEN         physical memory, hex
              snapshot NAME         remember the machine (RAM and CPU) under NAME
              restore NAME          go back to snapshot NAME
            """;

    private final KernelBoot boot;
    private final Machine machine;
    private final Map<String, Snapshot> snapshots = new HashMap<>();

    MonitorCommands(KernelBoot boot) {
        this.boot = boot;
        this.machine = boot.machine();
    }

    String run(String line) {
        String[] words = line.trim().split("\\s+");
        try {
            return switch (words[0].toLowerCase(Locale.ROOT)) {
                case "", "help" -> HELP;
                case "explain" -> explain(argument(words, 1, "explain ADDR|SYMBOL"));
                case "fault" -> fault();
                case "mm" -> boot.services().memory().map(MemoryReport::of)
                        .orElse("kemu's memory services are not initialised (the kernel made no HC_MM_INIT)\n");
                case "tlb" -> MappedRanges.describe(machine);
                case "idt" -> DescriptorTableText.idt(machine);
                case "gdt" -> DescriptorTableText.gdt(machine);
                case "phys" -> phys(address(argument(words, 1, "phys ADDR LEN")), address(argument(words, 2, "phys ADDR LEN")));
                case "snapshot" -> snapshot(argument(words, 1, "snapshot NAME"));
                case "restore" -> restore(argument(words, 1, "restore NAME"));
                default -> "unknown monitor command '" + words[0] + "'\n" + HELP;
            };
        } catch (IllegalArgumentException e) {
            return e.getMessage() + "\n";
        }
    }

    private static String argument(String[] words, int index, String usage) {
        if (words.length <= index) {
            throw new IllegalArgumentException("usage: monitor " + usage);
        }
        return words[index];
    }

    /** A number (0x hex or decimal), a symbol, or SYMBOL+OFFSET. */
    long address(String text) {
        String t = text.replace("_", "").toLowerCase(Locale.ROOT);
        try {
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseUnsignedLong(t);
        } catch (NumberFormatException notANumber) {
            int plus = text.indexOf('+');
            String name = plus < 0 ? text : text.substring(0, plus);
            Optional<Symbol> symbol = boot.symbols().find(name);
            if (symbol.isEmpty()) {
                throw new IllegalArgumentException("'" + text + "' is neither an address (0x... or decimal) nor a "
                        + "symbol of the kernel or the firmware");
            }
            return symbol.get().address() + (plus < 0 ? 0 : address(text.substring(plus + 1)));
        }
    }

    private String explain(String what) {
        long va = address(what);
        return boot.faultAnalyzer().explain(va).text() + "vma: " + boot.faultAnalyzer().vmasAround(va).text() + "\n"
                + "symbol: " + boot.symbols().symbolize(va) + "\n";
    }

    private String fault() {
        List<FaultReport> reports = boot.faults().reports();
        return reports.isEmpty() ? "no fault so far\n" : reports.getLast().text();
    }

    private String phys(long address, long length) {
        if (length <= 0 || length > 64 * 1024 || !machine.ram().contains(address, length)) {
            throw new IllegalArgumentException(String.format("phys 0x%x %d: the range must lie in guest RAM "
                    + "(0x%x bytes) and be 1..65536 bytes long", address, length, machine.ram().size()));
        }
        byte[] bytes = machine.ram().read(address, (int) length);
        StringBuilder out = new StringBuilder();
        for (int row = 0; row < bytes.length; row += 16) {
            out.append(String.format("P0x%x:", address + row));
            for (int i = row; i < Math.min(row + 16, bytes.length); i++) {
                out.append(String.format(" %02x", bytes[i] & 0xff));
            }
            out.append('\n');
        }
        return out.toString();
    }

    private String snapshot(String name) {
        Snapshot old = snapshots.put(name, Snapshot.take(machine));
        if (old != null) {
            old.close();
        }
        CpuState cpu = machine.cpu();
        return String.format("snapshot '%s' taken at RIP %s%n", name, boot.symbols().symbolize(cpu.rip()));
    }

    private String restore(String name) {
        Snapshot snapshot = snapshots.get(name);
        if (snapshot == null) {
            throw new IllegalArgumentException("no snapshot named '" + name + "' (taken: " + snapshots.keySet() + ")");
        }
        long pages = snapshot.restore();
        return String.format("restored '%s' (%d pages copied); RIP %s; gdb's register cache is stale: run `flushregs`%n",
                name, pages, boot.symbols().symbolize(machine.cpu().rip()));
    }
}
