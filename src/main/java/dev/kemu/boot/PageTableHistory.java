package dev.kemu.boot;

import dev.kemu.debug.FaultReport;
import dev.kemu.machine.Machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * "Who last wrote this page-table entry?" outside a gdb session ({@code kemu boot --pt-history}): boots
 * the same kernel again with the same options, with a write hook on the faulting walk's last entry only
 * (its 4 or 8 physical bytes, so the run pays nothing elsewhere), and keeps the last store into it before
 * the run stops as the first did. kemu's runs are deterministic, so the second run takes the same path;
 * a second run that stops elsewhere (input from a terminal, a wall-clock limit) is said to have diverged.
 */
public final class PageTableHistory {
    /** One store into the entry: which instruction, where, and the entry before and after it. */
    public record Write(int cpu, long instruction, long rip, long oldEntry, long newEntry) {}

    private PageTableHistory() {}

    /** The entry the walk of {@code fault} ended at, as a physical address, or empty when the report has no walk. */
    public static Optional<Long> lastEntry(FaultReport fault) {
        FaultReport.Walk walk = fault.walk();
        if (walk == null || walk.levels().isEmpty()) {
            return Optional.empty();
        }
        String entry = walk.levels().getLast().entryAddress().replaceFirst("^[PV]?0x", "");
        return Optional.of(Long.parseUnsignedLong(entry, 16));
    }

    /**
     * The history line for the last of {@code reports}, the fault reports of a boot of {@code images} with
     * {@code options}: empty when there is none or its walk names no entry.
     */
    public static Optional<String> explain(KernelSources.BuiltImages images, BootOptions options,
                                           Optional<BootProtocol> protocol, List<FaultReport> reports) {
        if (reports.isEmpty()) {
            return Optional.empty();
        }
        FaultReport fault = reports.getLast();
        Optional<Long> entry = lastEntry(fault);
        if (entry.isEmpty()) {
            return Optional.empty();
        }
        FaultReport.Level level = fault.walk().levels().getLast();
        int size = fault.walk().mode().equals(dev.kemu.machine.PagingFormat.BITS_32.title()) ? 4 : 8;
        String where = String.format("%s %s[%d] @ %s", level.table(), level.tableAddress(), level.index(),
                level.entryAddress());
        // Only the last write is reported, so only it is kept: a guest may rewrite the entry millions of times.
        AtomicReference<Write> lastWrite = new AtomicReference<>();
        List<FaultReport> again2;
        String symbolized;
        boolean severalCpus;
        try (KernelBoot again = new KernelBoot(images, options, protocol)) {
            List<Machine.Subscription> hooks = new ArrayList<>();
            for (int cpu = 0; cpu < again.cpus().count(); cpu++) {
                hooks.add(watch(cpu, again.cpus().machine(cpu), entry.get(), size, lastWrite));
            }
            try {
                again2 = again.run().faults();
            } finally {
                hooks.forEach(Machine.Subscription::close);
            }
            symbolized = lastWrite.get() == null ? "" : again.symbols().symbolize(lastWrite.get().rip());
            severalCpus = again.cpus().count() > 1;
        }
        String replayed = " (--pt-history: the boot ran again with a write hook on those " + size + " bytes)";
        if (again2.size() != reports.size() || !again2.getLast().rip().equals(fault.rip())) {
            return Optional.of(String.format("page-table history: %s: the second run did not fault as the first did "
                    + "(%d reports, the last at %s, against %d at %s: input from a terminal, or a wall-clock limit?), "
                    + "so its writes are not this fault's history%n", where, again2.size(),
                    again2.isEmpty() ? "-" : again2.getLast().rip(), reports.size(), fault.rip()));
        }
        if (lastWrite.get() == null) {
            return Optional.of(String.format("page-table history: %s: never written by the guest (the value the "
                    + "loader or firmware left)%s%n", where, replayed));
        }
        Write last = lastWrite.get();
        // With several CPUs a count is per turn of one CPU: the CPU is named instead.
        String when = severalCpus ? "by cpu" + last.cpu() : String.format("instruction %,d", last.instruction());
        return Optional.of(String.format("page-table history: %s: last written at %s, %s: 0x%x -> 0x%x%s%n",
                where, symbolized, when, last.oldEntry(), last.newEntry(), replayed));
    }

    private static Machine.Subscription watch(int id, Machine cpu, long entry, int size, AtomicReference<Write> lastWrite) {
        // Unicorn matches a store by its first byte: start 7 bytes early for a store that begins below the entry.
        return cpu.onMemoryAccess(Math.max(0, entry - 7), entry + size - 1, false, true, (write, address, bytes, value) -> {
            if (address + bytes <= entry || address >= entry + size) {
                return;
            }
            long old = size == 4 ? cpu.ram().read32(entry) & 0xffff_ffffL : cpu.ram().read64(entry);
            long updated = old;
            for (int i = 0; i < bytes; i++) {
                long at = address + i;
                if (at >= entry && at < entry + size) {
                    int shift = (int) (at - entry) * 8;
                    updated = updated & ~(0xffL << shift) | ((value >>> (i * 8)) & 0xff) << shift;
                }
            }
            lastWrite.set(new Write(id, cpu.instructionCount(), cpu.register(dev.kemu.unicorn.X86Reg.RIP), old, updated));
        });
    }
}
