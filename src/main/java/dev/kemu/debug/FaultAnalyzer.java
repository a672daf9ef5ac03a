package dev.kemu.debug;

import dev.kemu.elf.ImageSections;
import dev.kemu.elf.SourceLine;
import dev.kemu.elf.SymbolTable;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.Vma;
import dev.kemu.kernel.mm.VmaKind;
import dev.kemu.machine.Access;
import dev.kemu.machine.AccessVerdict;
import dev.kemu.machine.CpuException;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Disassembler;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageWalk;
import dev.kemu.machine.PagingFormat;
import dev.kemu.machine.PagingMode;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;
import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/** Builds a {@link FaultReport} from the machine at the moment of a fault. */
public final class FaultAnalyzer implements AutoCloseable {
    private final Machine machine;
    private final SymbolTable symbols;
    private final Supplier<Optional<KernelMemory>> memory;
    /** Symbols of guest code loaded after boot (a test snippet), looked up before the kernel's. */
    private SymbolTable loadedCode = SymbolTable.empty();
    private BlockTrace trace;
    private int traceCapacity;
    /** The CPU's name in reports ("cpu1") when the machine has several; null with one CPU (reports as before). */
    private String cpuName;
    /** The analyzers of the other CPUs ({@link #forCpu}), which follow this one's trace and loaded-code settings. */
    private final List<FaultAnalyzer> otherCpus = new ArrayList<>();
    private Disassembler capstone;
    private String capstoneProblem;

    public FaultAnalyzer(Machine machine, SymbolTable symbols, Supplier<Optional<KernelMemory>> memory) {
        this.machine = machine;
        this.symbols = symbols;
        this.memory = memory;
    }

    /** Records the last {@code blocks} basic blocks for reports (a block hook; off by default). */
    public void traceBlocks(int blocks) {
        if (trace == null && blocks > 0) {
            trace = new BlockTrace(machine, blocks);
            traceCapacity = blocks;
        }
        otherCpus.forEach(other -> other.traceBlocks(blocks));
    }

    /** The CPU this analyzer names in its reports ("cpu1"), or null on a machine with one CPU. */
    public String cpuName() {
        return cpuName;
    }

    /** Names this analyzer's CPU in its reports ("cpu0"); a machine with several CPUs names every one. */
    public void nameCpu(String name) {
        this.cpuName = name;
    }

    /**
     * The analyzer of another CPU's machine ({@code name}, e.g. "cpu1") with this one's symbols and memory
     * services; it traces blocks when this one does and sees the same loaded code, and closes with it.
     */
    public FaultAnalyzer forCpu(Machine cpuMachine, String name) {
        FaultAnalyzer other = new FaultAnalyzer(cpuMachine, symbols, memory);
        other.cpuName = name;
        other.loadedCode = loadedCode;
        other.traceBlocks(traceCapacity);
        otherCpus.add(other);
        return other;
    }

    /** Names the addresses of guest code loaded after boot (a test snippet) by {@code symbols} from now on. */
    public void loadedCodeSymbols(SymbolTable symbols) {
        this.loadedCode = symbols;
        otherCpus.forEach(other -> other.loadedCodeSymbols(symbols));
    }

    /**
     * {@code symbol+0xoffset} from the loaded code's symbols, then the kernel's; the bare address otherwise;
     * followed by {@code (file.c:LINE)} when the image has line information for it.
     */
    public String symbolize(long address) {
        return symbolsFor(address).symbolize(address);
    }

    /** {@link #symbolize} without the source line. */
    public String symbolOnly(long address) {
        return symbolsFor(address).symbolOnly(address);
    }

    /** The source line of the code at {@code address}, when its image has DWARF line information. */
    public Optional<SourceLine> sourceLine(long address) {
        return symbolsFor(address).sourceLine(address);
    }

    private SymbolTable symbolsFor(long address) {
        return loadedCode.containing(address).isPresent() ? loadedCode : symbols;
    }

    /** The regions kemu knows {@code address} to lie in (for {@code kemu explain}); see {@link AddressRegions}. */
    public List<String> regionsOf(long address, ImageSections kernelSections) {
        return AddressRegions.of(address, kernelSections, loadedCode, memory.get());
    }

    /** Forgets the recorded blocks. */
    public void clearTrace() {
        if (trace != null) {
            trace.clear();
        }
        otherCpus.forEach(FaultAnalyzer::clearTrace);
    }

    /** The recorded blocks, oldest first, symbolized (empty when tracing is off). */
    public List<String> recentBlockLines() {
        return recentBlocks();
    }

    /** The report of {@code exception}, read from the machine while the exception is being handled. */
    public FaultReport analyze(CpuException exception) {
        CpuState cpu = machine.cpu();
        int vector = exception.vector();
        int errorCode = exception.errorCodeOrMinusOne();
        List<Disassembler.Instruction> code = disassemble(cpu);
        String address = null, access = null, mode = null, reason;
        Long cr2 = null;
        FaultReport.Walk walk = null;
        FaultReport.Vmas vmas = null;
        if (exception.is(ExceptionVector.PF)) {
            cr2 = exception.cr2();
            Access faulting = accessOf(errorCode, cr2, exception.rip());
            address = hex(cr2);
            access = faulting.kind() == Access.Kind.FETCH ? "instruction fetch"
                    : faulting.kind() == Access.Kind.WRITE ? "write" : "read";
            mode = faulting.user() ? "user" : "supervisor";
            // The walk of this access under the CPU's own controls (EFER.NXE, CR0.WP, SMEP, SMAP): its
            // verdict names the entry that decided the fault, e.g. a PD entry whose NX bit is reserved.
            PageWalk pageWalk = machine.pageWalker().walk(cpu.cr3(), VirtAddr.of(cr2), faulting, PagingMode.of(cpu));
            walk = walkOf(pageWalk);
            vmas = vmasAround(cr2).orElse(null);
            reason = PageFaultReason.of(pageWalk, errorCode, guardPrefix(cr2)) + recursiveWindow(cpu, cr2);
        } else if (exception.is(ExceptionVector.GP) && !code.isEmpty()) {
            OptionalLong target = effectiveAddress(code.getFirst(), cpu);
            // Canonical addresses exist only in long mode: bits 63..47 (63..56 with LA57) all equal.
            int top = PagingFormat.of(cpu) == PagingFormat.FIVE_LEVEL ? 56 : 47;
            long high = target.orElse(0) >> top;
            if (target.isPresent() && cpu.longModeActive() && high != 0 && high != -1) {
                address = hex(target.getAsLong());
                reason = "non-canonical address " + address + " (bits 63.." + top + " must all equal bit " + top
                        + "): the CPU raises #GP, not #PF, and no page walk happens";
            } else {
                reason = "general protection fault (a segment, privilege or canonical-address check failed)";
            }
        } else {
            reason = ExceptionVector.describe(vector);
        }
        return new FaultReport(vector, ExceptionVector.describe(vector), address, access, mode, Math.max(errorCode, 0),
                errorBits(vector, errorCode), reason, hex(cpu.rip()), symbolOnly(cpu.rip()),
                sourceLine(cpu.rip()).map(SourceLine::toString).orElse(null), lines(code, cpu.rip()),
                walk, vmas, registers(cpu), recentBlocks(), "", cpuName,
                FaultSpace.of(memory.get(), cpu.cr3(), cr2).orElse(null));
    }

    private OptionalLong effectiveAddress(Disassembler.Instruction insn, CpuState cpu) {
        return EffectiveAddress.of(insn, cpu, machine.register(X86Reg.FS_BASE), machine.register(X86Reg.GS_BASE));
    }

    /** The address the instruction at RIP accesses (for tests that compare it with the CPU's CR2). */
    OptionalLong effectiveAddressAtRip() {
        CpuState cpu = machine.cpu();
        List<Disassembler.Instruction> code = disassemble(cpu);
        return code.isEmpty() ? OptionalLong.empty() : effectiveAddress(code.getFirst(), cpu);
    }

    /**
     * The access a #PF error code describes. The CPU sets I/D only while EFER.NXE or CR4.SMEP is on;
     * without them a fetch is recognised by CR2 being RIP (the instruction itself could not be read).
     */
    static Access accessOf(int errorCode, long cr2, long rip) {
        Access.Kind kind = (errorCode & PageFaultCode.FETCH) != 0 || cr2 == rip ? Access.Kind.FETCH
                : (errorCode & PageFaultCode.WRITE) != 0 ? Access.Kind.WRITE : Access.Kind.READ;
        return Access.of(kind, (errorCode & PageFaultCode.USER) != 0 ? Access.Mode.USER : Access.Mode.SUPERVISOR);
    }

    private String guardPrefix(long cr2) {
        return memory.get().flatMap(m -> m.areas().findForReport(VirtAddr.of(cr2))).filter(v -> v.kind() == VmaKind.GUARD)
                .map(v -> "guard page " + hex(v.start().value()) + " hit: ").orElse("");
    }

    /** The error code in words, one entry per {@link PageFaultCode} bit for a #PF. */
    static List<String> errorBits(int vector, int errorCode) {
        if (errorCode < 0) {
            return List.of("none");
        }
        if (vector != ExceptionVector.PF) {
            return List.of(errorCode == 0 ? "0" : "selector " + hex(errorCode >> 3));
        }
        List<String> bits = new ArrayList<>();
        bits.add((errorCode & PageFaultCode.PRESENT) != 0 ? "present (protection violation)" : "not present");
        bits.add((errorCode & PageFaultCode.WRITE) != 0 ? "write" : "read");
        bits.add((errorCode & PageFaultCode.USER) != 0 ? "user" : "supervisor");
        if ((errorCode & PageFaultCode.RESERVED) != 0) bits.add("reserved bit");
        if ((errorCode & PageFaultCode.FETCH) != 0) bits.add("instruction fetch");
        return bits;
    }

    private FaultReport.Walk walkOf(PageWalk walk) {
        PagingFormat format = walk.format();
        List<FaultReport.Level> levels = walk.levels().stream().map(l -> new FaultReport.Level(l.tableName(),
                l.table().toString(), l.index(), l.entryAddress().toString(), l.entryBytes() == 4 ? l.rawHex()
                : hex(l.entry().raw()), walk.flags(l))).toList();
        String address = format.format(walk.address().value());
        OptionalLong reached = reachedPage(walk);
        if (reached.isEmpty()) {
            return new FaultReport.Walk(address, walk.cr3().toString(), levels, null, null, walk.stopReason(),
                    format.title());
        }
        long pageSize = walk.levels().isEmpty() ? 4096 : format.pageSize(walk.levels().getLast().level());
        return new FaultReport.Walk(address, walk.cr3().toString(), levels, PhysAddr.of(reached.getAsLong()).toString(),
                PageWalk.sizeName(pageSize), null, format.title());
    }

    /**
     * The physical address the walk reached: also for an access the page's rights deny (the page
     * exists, the reason says what it lacks); none when an entry was missing or had a reserved bit.
     */
    private OptionalLong reachedPage(PageWalk walk) {
        if (walk.verdict() instanceof AccessVerdict.Allowed allowed) {
            return OptionalLong.of(allowed.physical().value());
        }
        if (!(walk.verdict() instanceof AccessVerdict.PageFault fault) || fault.cause() == AccessVerdict.Cause.NOT_PRESENT
                || fault.cause() == AccessVerdict.Cause.RESERVED_BIT) {
            return OptionalLong.empty();
        }
        // The same walk as the supervisor read that every present, well-formed page allows.
        PageWalk read = machine.pageWalker().walk(walk.cr3().value(), walk.address(), Access.SUPERVISOR_READ,
                PagingMode.HOST.withFormat(walk.format()));
        return read.physical().map(p -> OptionalLong.of(p.value())).orElse(OptionalLong.empty());
    }

    /**
     * The walk of any address as a supervisor read, with the CPU's current CR3 and in its current paging
     * mode (for {@code kemu explain} and the gdb monitor).
     */
    public FaultReport.Walk explain(long address) {
        return walkOf(currentWalk(address));
    }

    private PageWalk currentWalk(long address) {
        CpuState cpu = machine.cpu();
        return machine.pageWalker().walk(cpu.cr3(), VirtAddr.of(address), Access.SUPERVISOR_READ, hostView(cpu));
    }

    private static PagingMode hostView(CpuState cpu) {
        return PagingMode.hostView(cpu.cr0(), cpu.cr4(), cpu.efer());
    }

    /** "; V0x... lies in a recursive window: the page table for ..." when it does, else "". */
    private String recursiveWindow(CpuState cpu, long address) {
        PagingFormat format = PagingFormat.of(cpu);
        return RecursiveMappings.find(machine.ram(), cpu.cr3(), format).explain(address)
                .map(what -> "; " + format.format(address) + " lies in a recursive window: it is " + what).orElse("");
    }

    /**
     * What the paging structures say of {@code address} beyond its walk: the CPU's paging mode, each
     * recursive (self-referencing) top-level entry and where it makes the tables appear, and which table
     * the address shows when it lies in such a window.
     */
    public List<String> pagingNotes(long address) {
        CpuState cpu = machine.cpu();
        PagingFormat format = PagingFormat.of(cpu);
        List<String> notes = new ArrayList<>();
        notes.add("paging: " + format.title() + (format == PagingFormat.NONE ? "" : ", CR3 " + PhysAddr.of(cpu.cr3())));
        RecursiveMappings recursive = RecursiveMappings.find(machine.ram(), cpu.cr3(), format);
        notes.addAll(recursive.describe());
        recursive.explain(address).ifPresent(what -> notes.add("this address: " + what));
        return notes;
    }

    /**
     * The VMA holding {@code address}, or its neighbours; empty when the kernel never initialised kemu's
     * memory services, so that a kernel of its own is not described in terms of kemu's VMAs.
     */
    public Optional<FaultReport.Vmas> vmasAround(long address) {
        Optional<KernelMemory> kernel = memory.get();
        if (kernel.isEmpty()) {
            return Optional.empty();
        }
        List<Vma> all = kernel.get().areas().vmas();
        Vma below = null, above = null;
        for (Vma vma : all) {
            if (vma.contains(VirtAddr.of(address))) {
                return Optional.of(new FaultReport.Vmas(vma.toString(), null, null));
            }
            if (Long.compareUnsigned(vma.end().value(), address) <= 0) {
                below = vma;
            } else if (above == null) {
                above = vma;
            }
        }
        return Optional.of(new FaultReport.Vmas(null, below == null ? null : below.toString(),
                above == null ? null : above.toString()));
    }

    private List<Disassembler.Instruction> disassemble(CpuState cpu) {
        byte[] bytes = machine.readVirtual(cpu.rip(), 32);
        if (bytes.length == 0 || capstoneProblem != null) {
            return List.of();
        }
        try {
            if (capstone == null) {
                capstone = new Disassembler();
            }
            return capstone.disassemble(bytes, cpu.rip(), 3, codeBits(cpu));
        } catch (NativeLibraryException e) {
            capstoneProblem = e.getMessage();
            return List.of();
        }
    }

    /**
     * 64 while EFER.LMA is set, else 32 or 16 from the D bit of the CS descriptor the CPU runs with. In long
     * mode the descriptor cache is not consulted: a fresh 64-bit engine runs 64-bit code with L clear in it
     * (see CodeSegmentCacheTest), so compatibility-mode code is disassembled as 64-bit.
     */
    private int codeBits(CpuState cpu) {
        if (cpu.longModeActive()) {
            return 64;
        }
        return machine.codeSegment().defaultSize32() ? 32 : 16;
    }

    private List<String> lines(List<Disassembler.Instruction> code, long rip) {
        if (capstoneProblem != null) {
            return List.of("(no disassembly: " + capstoneProblem + ")");
        }
        if (code.isEmpty()) {
            return List.of("(no code readable at RIP " + hex(rip) + ")");
        }
        List<String> text = new ArrayList<>();
        for (Disassembler.Instruction insn : code) {
            text.add(String.format("%s %-22s %s", insn.address() == rip ? "=>" : "  ", symbolOnly(insn.address()),
                    insn.text()));
        }
        return text;
    }

    private static Map<String, String> registers(CpuState cpu) {
        Map<String, String> registers = new LinkedHashMap<>();
        for (int i = 0; i < X86Reg.GPR_NAMES.length; i++) {
            registers.put(X86Reg.GPR_NAMES[i], hex(cpu.gprs()[i]));
        }
        registers.put("rip", hex(cpu.rip()));
        registers.put("rflags", hex(cpu.rflags()));
        registers.put("cr0", hex(cpu.cr0()));
        registers.put("cr2", hex(cpu.cr2()));
        registers.put("cr3", hex(cpu.cr3()));
        registers.put("cr4", hex(cpu.cr4()));
        registers.put("efer", hex(cpu.efer()));
        registers.put("cs", hex(cpu.cs()));
        registers.put("ss", hex(cpu.ss()));
        return registers;
    }

    private List<String> recentBlocks() {
        return trace == null ? List.of() : trace.lines(this::symbolize);
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    @Override
    public void close() {
        otherCpus.forEach(FaultAnalyzer::close);
        otherCpus.clear();
        if (capstone != null) {
            capstone.close();
        }
        if (trace != null) {
            trace.close();
        }
    }
}
