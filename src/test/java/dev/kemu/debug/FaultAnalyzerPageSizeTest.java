package dev.kemu.debug;

import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The page size a fault report's walk names, for each leaf level. */
class FaultAnalyzerPageSizeTest {
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
    private static final long RW = PageTableEntry.PRESENT | PageTableEntry.WRITABLE;

    @Test
    void explain_labelsEachLeafLevelWithItsOwnPageSize() {
        try (Machine machine = new Machine(1 << 20);
             FaultAnalyzer analyzer = new FaultAnalyzer(machine, SymbolTable.empty(), Optional::empty)) {
            machine.ram().write64(PML4, PDPT | RW);
            machine.ram().write64(PDPT, PD | RW);                            // V0x0.. -> PD
            machine.ram().write64(PDPT + 8, 0x4000_0000L | RW | PageTableEntry.HUGE); // V0x40000000: 1 GiB page
            machine.ram().write64(PD, PT | RW);
            machine.ram().write64(PD + 8, 0x20_0000L | RW | PageTableEntry.HUGE);     // V0x200000: 2 MiB page
            machine.ram().write64(PT + 8 * 5, 0x9000 | RW);                          // V0x5000: 4 KiB page
            machine.setRegister(X86Reg.CR3, PML4);
            // explain walks in the CPU's mode: 4-level paging (Unicorn's engine starts with EFER.LME and LMA).
            machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | CpuState.CR4_PAE);
            machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | CpuState.CR0_PG);

            assertEquals("1 GiB", analyzer.explain(0x4000_1234L).pageSize());
            assertEquals("2 MiB", analyzer.explain(0x21_2345L).pageSize());
            assertEquals("4 KiB", analyzer.explain(0x5123).pageSize());
        }
    }
}
