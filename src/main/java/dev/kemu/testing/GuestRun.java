package dev.kemu.testing;

import dev.kemu.debug.FaultReport;
import dev.kemu.debug.leaks.SlubAllocationSites;
import dev.kemu.debug.leaks.LeakReport;
import dev.kemu.debug.leaks.LeakScan;
import dev.kemu.debug.leaks.ScanRoots;
import dev.kemu.debug.svg.MemorySvg;
import dev.kemu.debug.svg.VirtualRegion;
import dev.kemu.kernel.InvalidFree;
import dev.kemu.kernel.MetadataCorruption;
import dev.kemu.kernel.kasan.KasanReport;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.slab.SlabInfo;
import dev.kemu.kernel.slab.SlubReport;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;

import java.util.List;
import java.util.Optional;

/**
 * What one run of guest code did: registers, memory (read through the guest's page tables),
 * debug-console output, faults with their reports, refused frees and the allocators' state.
 * Valid until the next run on the same thread. The block trace and the symbol of the stop
 * address are read only when asked for ({@link #recentBlocks}, {@link #describe}): most runs
 * pass and are never described, and formatting 32 trace lines costs more than a short run.
 */
public final class GuestRun {
    private final TestMachine machine;
    private final RunResult result;
    private final String console;
    private final List<FaultReport> faults;
    private final List<InvalidFree> invalidFrees;
    private final List<MetadataCorruption> corruptions;
    private final List<KasanReport> kasanReports;
    private List<SlubReport> slubReports;
    private List<String> recentBlocks;

    GuestRun(TestMachine machine, RunResult result) {
        this.machine = machine;
        this.result = result;
        this.console = machine.boot().console().text();
        this.faults = machine.boot().faults().reports();
        this.invalidFrees = machine.boot().services().invalidFrees();
        this.corruptions = machine.boot().services().metadataCorruptions();
        this.kasanReports = machine.boot().services().kasanReports();
    }

    /** The last basic blocks executed, oldest first (formatted on the first call). */
    public List<String> recentBlocks() {
        if (recentBlocks == null) {
            recentBlocks = machine.boot().faultAnalyzer().recentBlockLines();
        }
        return recentBlocks;
    }

    public RunResult result() {
        return result;
    }

    public StopReason stopReason() {
        return result.reason();
    }

    /** True when the code ran to its end without a fault. */
    public boolean completed() {
        return result.reason() == StopReason.REACHED_END;
    }

    public CpuState cpu() {
        return result.cpu();
    }

    public long register(int register) {
        return result.cpu().gpr(register);
    }

    public long rax() {
        return result.cpu().rax();
    }

    public long instructions() {
        return result.instructions();
    }

    public String console() {
        return console;
    }

    public List<FaultReport> faults() {
        return faults;
    }

    public Optional<FaultReport> fault() {
        return faults.isEmpty() ? Optional.empty() : Optional.of(faults.getLast());
    }

    public List<InvalidFree> invalidFrees() {
        return invalidFrees;
    }

    /**
     * Hypercalls that found the kernel's metadata corrupted (the guest overwrote it); such a
     * hypercall (or the #PF handler) stops the run ({@link StopReason#KERNEL_PANIC}) instead of throwing.
     */
    public List<MetadataCorruption> metadataCorruptions() {
        return corruptions;
    }

    public KernelMemory memory() {
        return machine.memory();
    }

    public List<SlabInfo> slabInfo() {
        return machine.memory().slabs().info();
    }

    /** Reads 8 bytes at guest-virtual {@code address} through the current page tables. */
    public long read64(long address) {
        return machine.machine().ram().read64(physical(address));
    }

    public byte[] read(long address, int length) {
        byte[] bytes = machine.machine().readVirtual(address, length);
        if (bytes.length < length) {
            throw new IllegalArgumentException("V0x" + Long.toHexString(address + bytes.length) + " is not mapped");
        }
        return bytes;
    }

    private long physical(long address) {
        long physical = machine.machine().pageWalker().translate(result.cpu().cr3(), address);
        if (physical < 0) {
            throw new IllegalArgumentException("V0x" + Long.toHexString(address) + " is not mapped");
        }
        return physical;
    }

    /**
     * Everything kemu knows about {@code address} after this run ({@code kemu whatis}): "V0x..", "P0x..", hex or
     * a kernel symbol; labelled lines such as {@code frame:}, {@code owner:}, {@code object:}.
     */
    public String whatis(String address) {
        var boot = machine.boot();
        var target = dev.kemu.debug.WhatIsTarget.parse(address, boot.symbols(), boot.kernel().path().toString());
        return dev.kemu.debug.WhatIs.text(target, machine.machine(), boot.faultAnalyzer(),
                dev.kemu.elf.ImageSections.read(boot.kernel().path()), boot.services().memory());
    }

    /** {@link #whatis(String)} of a virtual address. */
    public String whatis(long address) {
        return whatis(String.format("V0x%x", address));
    }

    /**
     * kmemleak's scan of guest RAM after this run ({@code kemu boot --leaks}, docs/leaks.md): the objects still
     * allocated that no pointer in the kernel's data, this run's registers and stack, or any object they reach
     * points into.
     */
    public LeakReport leaks() {
        CpuState cpu = result.cpu();
        ScanRoots roots = ScanRoots.builder(cpu.cr3()).kernelData(machine.boot().kernel()).cpu(cpu, 0).build();
        return LeakScan.run(machine.memory(), roots,
                new SlubAllocationSites(machine.memory(), machine.boot().faultAnalyzer()::symbolize));
    }

    /** Fails, with each leak in kmemleak's shape, when {@link #leaks} finds any. */
    public void assertNoLeaks() {
        LeakReport report = leaks();
        if (!report.isEmpty()) {
            throw new AssertionError(report.text());
        }
    }

    /**
     * The SLUB debug reports of this run ({@link MemoryDebug#slub()}): those its frees and allocations found, then
     * the end-of-run validation of every debug cache (as {@code kemu boot --slub-debug} does when the guest stops),
     * which catches red zones overwritten on objects still allocated. Empty without the mode.
     */
    public List<SlubReport> slubReports() {
        if (slubReports == null) {
            slubReports = machine.usesMemoryServices() ? machine.boot().services().validateSlabs() : List.of();
        }
        return slubReports;
    }

    /** The KASAN reports of this run ({@link MemoryDebug#kasan()}), oldest first; empty without the mode. */
    public List<KasanReport> kasanReports() {
        return kasanReports;
    }

    /**
     * Fails, listing each report as Linux prints it, when this run produced any SLUB debug or KASAN report. The
     * modes alone fail nothing: a test that expects a report asserts on {@link #slubReports} / {@link #kasanReports}.
     */
    public void assertNoMemoryErrors() {
        List<SlubReport> slub = slubReports();
        if (slub.isEmpty() && kasanReports.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder(String.format("memory errors: %d SLUB debug report(s), %d KASAN report(s)%n",
                slub.size(), kasanReports.size()));
        slub.forEach(r -> text.append(r.text()));
        kasanReports.forEach(r -> text.append(r.text()).append('\n'));
        throw new AssertionError(text.toString());
    }

    /** The memory picture after this run, as {@code kemu boot --mm-svg} draws it (docs/memory-pictures.md). */
    public String memorySvg() {
        return MemorySvg.render(machine.memory(), VirtualRegion.kernelImage(machine.boot().kernel()));
    }

    boolean usesMemoryServices() {
        return machine.usesMemoryServices();
    }

    /** A description for failure messages: how the run ended, the fault report and the recent trace. */
    public String describe() {
        StringBuilder text = new StringBuilder("guest run: " + result.reason() + " (" + result.detail() + ") at "
                + machine.boot().faultAnalyzer().symbolize(result.cpu().rip()) + ", " + result.instructions()
                + " instructions\n");
        faults.forEach(f -> text.append(f.text()));
        corruptions.forEach(c -> text.append(c).append('\n'));
        if (!console.isEmpty()) {
            text.append("console:\n").append(console);
        }
        if (faults.isEmpty() && !recentBlocks().isEmpty()) {
            text.append("recent blocks (oldest first)\n");
            recentBlocks().forEach(b -> text.append("  ").append(b).append('\n'));
        }
        return text.toString();
    }
}
