package dev.kemu.testing;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reset keeps the TLB and the translated code when nothing they depend on changed (no page table written or
 * walked into a new accessed/dirty bit, the same control registers, no run since the last reset), and must
 * drop them whenever something did: the next run has to behave as on a fresh machine.
 */
class ResetWithoutFlushTest {
    private static final long ACCESSED = 1 << 5;
    /** Reads the direct map's PD entry of V0xffff800001e00000 (2 MiB pages; the boot never touches it) into {@code reg}. */
    private static final String READ_PDE = """
                mov rax, cr3
                movabs rcx, 0x000ffffffffff000
                and rax, rcx
                movabs rbx, 0xffff800000000000
                mov rax, [rbx + rax + 256 * 8]
                and rax, rcx
                mov rax, [rbx + rax]
                and rax, rcx
                mov %s, [rbx + rax + 15 * 8]
            """;
    private static TestMachine machine;
    private static MachineImage pristine;

    @BeforeAll
    static void boot() {
        machine = new TestMachine();
        machine.reset();
        pristine = new MachineImage(machine.machine());
    }

    @AfterAll
    static void close() {
        pristine.close();
        machine.close();
    }

    @Test
    void reset_afterTrivialSnippet_copiesOnlyTheCodePage() {
        machine.run("    lea rax, [rdi + 3]", Map.of(X86Reg.RDI, 2L), 1000);
        // the harness's code and stack mappings are accessed and dirty in the snapshot: the run set no bit
        assertEquals(1, machine.reset(), "pages copied back after a snippet that only fetched its code");
        assertEquals(Optional.empty(), pristine.difference(machine.machine()));
    }

    @Test
    void reset_afterTheMmuSetAnAccessedBit_makesTheNextRunWalkAgain() {
        GuestRun first = machine.run("""
                    movabs rsi, 0xffff800001e00000
                    mov rax, [rsi]
                """ + READ_PDE.formatted("r8"), Map.of(), 1000);
        assertTrue((first.register(X86Reg.R8) & ACCESSED) != 0, "the load's walk set the PDE's accessed bit");
        machine.reset();
        // A TLB kept from the first run would let the load skip the walk, and the bit would stay clear.
        GuestRun second = machine.run(READ_PDE.formatted("r8") + """
                    movabs rsi, 0xffff800001e00000
                    mov rax, [rsi]
                """ + READ_PDE.formatted("r9"), Map.of(), 1000);
        assertTrue(second.completed(), second.describe());
        assertEquals(0, second.register(X86Reg.R8) & ACCESSED, "the reset put the clear accessed bit back");
        assertEquals(ACCESSED, second.register(X86Reg.R9) & ACCESSED, "the load walked the restored tables again");
    }

    @Test
    void reset_afterHostOnlyWritesToKernelCode_runsTheRoutineAsInTheSnapshot() {
        assertEquals("255", machine.run("    call console_put_dec", Map.of(X86Reg.RDI, 255L), 100_000).console());
        machine.reset();
        // No run between this reset and the next: that restore keeps the translations of the page it puts back,
        // made from the bytes it puts back.
        long routine = machine.machine().physical(machine.boot().symbols().address("console_put_dec"));
        machine.machine().ram().write(routine, new byte[]{(byte) 0xc3});
        machine.reset();
        GuestRun run = machine.run("    call console_put_dec", Map.of(X86Reg.RDI, 255L), 100_000);
        assertEquals("255", run.console(), run.describe());
    }
}
