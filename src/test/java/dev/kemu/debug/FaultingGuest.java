package dev.kemu.debug;

import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.ExceptionOutcome;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.X86Reg;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * A bare machine in 64-bit ring 0 that runs a few hand-assembled instructions and hands the first
 * exception to a {@link FaultAnalyzer}, for reports of faults a test crafts down to single bits.
 *
 * <p>Physical layout: PML4 at 0x1000, PDPT 0x2000, PD 0x3000 and PT 0x4000 identity-map the first
 * 2 MiB with 4 KiB pages (code at {@link #CODE}, stack below {@link #STACK_TOP}); a test owns every
 * other PD entry, the frames from {@link #TEST_TABLES} on, and EFER.NXE.
 */
final class FaultingGuest implements AutoCloseable {
    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000, TEST_TABLES = 0x8000;
    static final long CODE = 0x10000, STACK_TOP = 0x30000;
    static final long RW = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;

    private final Machine machine = new Machine(8 << 20);
    private final FaultAnalyzer analyzer = new FaultAnalyzer(machine, SymbolTable.empty(), Optional::empty);
    private FaultReport report;
    private long cr2;
    private java.util.OptionalLong effectiveAddress;

    FaultingGuest(boolean noExecuteEnabled) {
        GuestRam ram = machine.ram();
        ram.write64(PML4, PDPT | RW);
        ram.write64(PDPT, PD | RW);
        ram.write64(PD, PT | RW);
        for (long page = 0; page < 512; page++) {
            ram.write64(PT + 8 * page, (page << 12) | RW);
        }
        machine.setRegister(X86Reg.CR3, PML4);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
        long efer = machine.engine().readMsr(X86Reg.MSR_EFER) & ~CpuState.EFER_NXE;
        machine.engine().writeMsr(X86Reg.MSR_EFER, efer | (noExecuteEnabled ? CpuState.EFER_NXE : 0));
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG);
        machine.setRegister(X86Reg.RSP, STACK_TOP);
        machine.setExceptionHandler((m, exception) -> {
            cr2 = exception.cr2();
            effectiveAddress = analyzer.effectiveAddressAtRip();
            report = analyzer.analyze(exception);
            m.finishException();
            return ExceptionOutcome.STOP;
        });
    }

    GuestRam ram() {
        return machine.ram();
    }

    void setRegister(int register, long value) {
        machine.setRegister(register, value);
    }

    /** Runs {@code code} at {@link #CODE} and returns the report of the exception it raised. */
    FaultReport run(byte[] code) {
        return run(code, m -> {});
    }

    /** The same, after {@code setup} wrote registers (segment bases, operands) on the machine. */
    FaultReport run(byte[] code, Consumer<Machine> setup) {
        report = null;
        machine.ram().write(CODE, code);
        machine.engine().flushTranslationCache();
        machine.flushTlb();
        setup.accept(machine);
        var result = machine.run(CODE, RunLimits.budget(50));
        if (report == null) {
            throw new IllegalStateException("the code raised no exception: " + result.reason() + ", " + result.detail());
        }
        return report;
    }

    /** CR2 of the last exception (the address the CPU computed for a #PF). */
    long cr2() {
        return cr2;
    }

    /** What {@link EffectiveAddress} computed for the faulting instruction, read at the fault. */
    java.util.OptionalLong effectiveAddress() {
        return effectiveAddress;
    }

    @Override
    public void close() {
        analyzer.close();
        machine.close();
    }
}
