package dev.kemu.machine;

import dev.kemu.testutil.TwoHugePageTables;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Without paging kemu fills the TLB itself (IdentityTlb) and lets only pages that code ran from execute:
 * stores to code must still replace the code that runs, and turning paging on in a run hands the
 * translation back to the page tables at once.
 */
class IdentityTlbTest {
    private static final long CODE = 0x1000;

    private static RunResult run(Machine machine, int... code) {
        byte[] bytes = new byte[code.length];
        for (int i = 0; i < code.length; i++) {
            bytes[i] = (byte) code[i];
        }
        machine.ram().write(CODE, bytes);
        return machine.run(CODE, RunLimits.budget(1000));
    }

    @Test
    void aStoreToCodeThatRan_changesWhatRunsNext() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x3000, new byte[] {(byte) 0xb8, 1, 0, 0, 0, (byte) 0xc3}); // mov eax, 1 ; ret
            machine.setRegister(X86Reg.RSP, 0x8000);
            RunResult result = run(machine,
                    0xbb, 0x00, 0x30, 0x00, 0x00,             // mov ebx, 0x3000
                    0xff, 0xd3,                               // call rbx
                    0x89, 0xc1,                               // mov ecx, eax
                    0xc7, 0x43, 0x01, 0x02, 0x00, 0x00, 0x00, // mov dword [rbx + 1], 2
                    0xff, 0xd3,                               // call rbx
                    0xf4);                                    // hlt
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(1, machine.register(X86Reg.RCX), "the first call ran the original code");
            assertEquals(2, machine.register(X86Reg.RAX), "the second call ran the stored immediate");
        }
    }

    @Test
    void codeStoredToAPageNoCodeRanFrom_thenChangedAfterItRan_runsEachVersion() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.setRegister(X86Reg.RSP, 0x8000);
            // Page 0x4000 is written while it holds no code (a read-write TLB entry), then run, then written again.
            RunResult result = run(machine,
                    0xbb, 0x00, 0x40, 0x00, 0x00,             // mov ebx, 0x4000
                    0xc7, 0x03, 0xb8, 0x07, 0x00, 0x00,       // mov dword [rbx], 0x000007b8 (mov eax, 7 ...)
                    0xc7, 0x43, 0x04, 0x00, 0xc3, 0x00, 0x00, // mov dword [rbx + 4], 0x0000c300 (... ; ret)
                    0xff, 0xd3,                               // call rbx
                    0x89, 0xc1,                               // mov ecx, eax
                    0xc6, 0x43, 0x01, 0x09,                   // mov byte [rbx + 1], 9
                    0xff, 0xd3,                               // call rbx
                    0xf4);                                    // hlt
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(7, machine.register(X86Reg.RCX), "the code as first stored ran");
            assertEquals(9, machine.register(X86Reg.RAX), "the store after it ran replaced it");
        }
    }

    @Test
    void pagingTurnedOnInTheRun_translatesTheNextAccessThroughTheTables() {
        try (Machine machine = new Machine(1 << 20)) {
            TwoHugePageTables.install(machine, 0); // 0x40000000 -> 0
            machine.ram().write32(0x5000, 0x1234_5678);
            RunResult result = run(machine,
                    0x8b, 0x04, 0x25, 0x00, 0x50, 0x00, 0x00, // mov eax, [0x5000] (paging off: physical)
                    0x89, 0xc1,                               // mov ecx, eax
                    0x0f, 0x20, 0xc0,                         // mov rax, cr0
                    0x0d, 0x00, 0x00, 0x00, 0x80,             // or eax, 0x80000000 (PG)
                    0x0f, 0x22, 0xc0,                         // mov cr0, rax
                    0x8b, 0x14, 0x25, 0x00, 0x50, 0x00, 0x40, // mov edx, [0x40005000] (through the tables)
                    0xf4);                                    // hlt
            assertEquals(StopReason.HALTED, result.reason(), result.detail());
            assertEquals(0x1234_5678, machine.register(X86Reg.RCX));
            assertEquals(0x1234_5678, machine.register(X86Reg.RDX), "0x40005000 maps to physical 0x5000");
            assertEquals(CODE + 28, machine.register(X86Reg.RIP), "ran to the hlt, once");
            assertEquals(7, result.instructions(), "every instruction counted once across the hand-over");
        }
    }
}
