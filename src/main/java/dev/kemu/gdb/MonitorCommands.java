package dev.kemu.gdb;

import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultReport;
import dev.kemu.debug.MemoryReport;
import dev.kemu.elf.AddressExpression;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PagingFormat;
import dev.kemu.machine.Snapshot;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** gdb's {@code monitor ...} commands: kemu's views of the machine, as text for gdb's console. */
final class MonitorCommands {
    private static final String HELP = """
            kemu monitor commands:
              explain ADDR|SYMBOL   the page walk of a virtual address, its VMA and symbol
              whatis ADDR|SYMBOL    frame type and owner, slab object and its state, region, VMA (P0x... = physical)
              fault                 the report of the last fault
              mm                    physical map, slabinfo, VMAs (when kemu's memory services run)
              tlb                   every mapped range of the current CR3, with flags
              idt | gdt             the descriptor tables the CPU uses
              phys ADDR LEN         physical memory, hex
              last-write ADDR|SYMBOL  the last instruction that wrote the 8 bytes at ADDR, with old and new value
              time                  instructions executed since the session began
              snapshot NAME         remember the machine (RAM and CPU) under NAME
              restore NAME          go back to snapshot NAME
            """;

    private final KernelBoot boot;
    private final Machine machine;
    private final Map<String, Snapshot> snapshots = new HashMap<>();
    private final RunControl control;

    MonitorCommands(KernelBoot boot, RunControl control) {
        this.boot = boot;
        this.machine = boot.machine();
        this.control = control;
    }

    String run(String line) {
        String[] words = line.trim().split("\\s+");
        try {
            return switch (words[0].toLowerCase(Locale.ROOT)) {
                case "", "help" -> HELP;
                case "explain" -> explain(argument(words, 1, "explain ADDR|SYMBOL"));
                case "whatis" -> dev.kemu.debug.WhatIs.text(dev.kemu.debug.WhatIsTarget.parse(argument(words, 1,
                        "whatis ADDR|SYMBOL"), boot.symbols(), "the kernel or the firmware"), machine, boot.faultAnalyzer(),
                        dev.kemu.elf.ImageSections.read(boot.kernel().path()), boot.services().memory());
                case "fault" -> fault();
                case "last-write" -> lastWrite(argument(words, 1, "last-write ADDR|SYMBOL"));
                case "time" -> String.format("instruction %,d since the session began%n", control.now());
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

    /** A number (0x hex or decimal), a symbol, or SYMBOL+OFFSET (see {@link AddressExpression}). */
    long address(String text) {
        return AddressExpression.parse(text).resolve(boot.symbols(), "the kernel or the firmware");
    }

    private String explain(String what) {
        long va = address(what);
        return String.join("", boot.faultAnalyzer().pagingNotes(va).stream().map(note -> note + "\n").toList())
                + boot.faultAnalyzer().explain(va).text()
                + boot.faultAnalyzer().vmasAround(va).map(vmas -> "vma: " + vmas.text() + "\n").orElse("")
                + "symbol: " + boot.symbols().symbolize(va) + "\n";
    }

    private String fault() {
        List<FaultReport> reports = boot.faults().reports();
        if (reports.isEmpty()) {
            return "no fault so far\n";
        }
        FaultReport report = reports.getLast();
        return report.text() + entryHistory(report.walk());
    }

    /** Who wrote the page-table entry where the fault's walk ended: turns "not present" into "written at ..., value ...". */
    private String entryHistory(FaultReport.Walk walk) {
        if (walk == null || walk.levels().isEmpty()) {
            return "";
        }
        if (control.cpuCount() > 1) {
            return "who last wrote the entry: needs --cpus 1 (kemu's history records one CPU's instructions)\n";
        }
        FaultReport.Level last = walk.levels().getLast();
        long entry = Long.parseUnsignedLong(last.entryAddress().replaceFirst("^[PV]?0x", ""), 16);
        return String.format("%s %s[%d] @ %s: %s%n", last.table(), last.tableAddress(), last.index(), last.entryAddress(),
                describe(control.lastWrite(entry, walk.mode().equals(PagingFormat.BITS_32.title()) ? 4 : 8), "never written since the debugging session began"));
    }

    private String lastWrite(String what) {
        long va = address(what);
        long physical = machine.physical(va);
        if (physical < 0) {
            throw new IllegalArgumentException(String.format("0x%x is not mapped now, so kemu cannot tell which "
                    + "physical bytes to look for", va));
        }
        return String.format("0x%x (P0x%x): %s%n", va, physical, describe(control.lastWrite(physical, 8),
                "not written since the debugging session began (or before the last edit by the debugger)"));
    }

    private String describe(java.util.Optional<RunControl.LastWrite> write, String none) {
        return write.map(w -> String.format("last written by %s at instruction %,d: %d bytes at P0x%x, 0x%x -> 0x%x",
                boot.symbols().symbolize(w.rip()), w.time(), w.size(), w.address(), w.oldValue(), w.newValue()))
                .orElse(none);
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
        control.requireOneCpu("monitor snapshot"); // a snapshot holds cpu0's registers only
        Snapshot old = snapshots.put(name, Snapshot.take(machine));
        if (old != null) {
            old.close();
        }
        CpuState cpu = machine.cpu();
        return String.format("snapshot '%s' taken at RIP %s%n", name, boot.symbols().symbolize(cpu.rip()));
    }

    /** Frees the snapshots taken with {@code monitor snapshot}. */
    void close() {
        snapshots.values().forEach(Snapshot::close);
        snapshots.clear();
    }

    private String restore(String name) {
        Snapshot snapshot = snapshots.get(name);
        if (snapshot == null) {
            throw new IllegalArgumentException("no snapshot named '" + name + "' (taken: " + snapshots.keySet() + ")");
        }
        long pages = snapshot.restore();
        control.restored();
        return String.format("restored '%s' (%d pages copied); RIP %s; gdb's register cache is stale: run `flushregs`%n",
                name, pages, boot.symbols().symbolize(machine.cpu().rip()));
    }
}
