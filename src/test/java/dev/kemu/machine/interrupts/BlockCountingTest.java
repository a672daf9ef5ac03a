package dev.kemu.machine.interrupts;

import dev.kemu.boot.BootOptions;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run with interrupt hardware and no instruction budget counts virtual time per translated block
 * (kemu_block_count_hook) instead of per instruction. The same guest must see the same interrupts at the
 * same instruction boundaries either way: timer deadlines inside a block, the sti shadow, IF set by
 * popf, and an exception in the middle of a block (whose later instructions never ran).
 */
class BlockCountingTest {
    @TempDir
    Path dir;

    /** Per instruction: a budget far above what the guests run. */
    private static final BootOptions PER_INSTRUCTION = BootOptions.defaults().withBudget(500_000_000L);
    /** Per block: no budget. */
    private static final BootOptions PER_BLOCK = BootOptions.defaults().withBudget(0);

    /** One guest booted both ways, each in a folder of its own, both run to the exit port. */
    private record BothWays(InterruptGuest.Outcome perInstruction, InterruptGuest.Outcome perBlock) {}

    private BothWays bootBothWays(String guest) {
        InterruptGuest.Outcome perInstruction = InterruptGuest.boot(directory("instruction"), guest, PER_INSTRUCTION);
        InterruptGuest.Outcome perBlock = InterruptGuest.boot(directory("block"), guest, PER_BLOCK);
        for (InterruptGuest.Outcome run : new InterruptGuest.Outcome[]{perInstruction, perBlock}) {
            assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        }
        return new BothWays(perInstruction, perBlock);
    }

    private Path directory(String name) {
        try {
            return Files.createDirectories(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The PIT at about 1 kHz (a tick every 1 000 838 instructions). The guest sleeps in hlt until the first
     * tick, so both counters start the loop at the same instruction after a deadline; then a three-instruction
     * loop (one translated block) runs 3.5 M times. R12 counts ticks, R13 is the return address of the last
     * tick (the instruction boundary it landed on), R14 RCX then, R15 the loop's first instruction.
     */
    private static final String TICKING_LOOP = GuestTraps.gate(0x20, "timer") + InterruptGuest.remapPic(0xfe, 0xff)
            + InterruptGuest.pitChannel0(2, 1193) + """
                xor r12, r12
                xor r13, r13
                xor ecx, ecx
                lea r15, [rip + 1f]
                sti
                hlt
            1:  inc rcx
                cmp rcx, 3500000
                jb 1b
            """ + InterruptGuest.EXIT + """
            timer:
                inc r12
                mov r13, [rsp]
                mov r14, rcx
                push rax
                mov al, 0x20
                out 0x20, al
                pop rax
                iretq
            """ + GuestTraps.IDT_DATA;

    @Test
    void timerTicksInsideALoop_landOnTheSameInstructionAsWhenCountingPerInstruction() {
        BothWays runs = bootBothWays(TICKING_LOOP);
        InterruptGuest.Outcome perInstruction = runs.perInstruction(), perBlock = runs.perBlock();
        assertTrue(perInstruction.gpr(12) >= 10, "about 10.5 M instructions at a tick per million: "
                + perInstruction.gpr(12) + " ticks");
        assertTrue(perInstruction.gpr(13) != perInstruction.gpr(15), "the last tick lands inside the loop's block");
        assertEquals(perInstruction.gpr(12), perBlock.gpr(12), "ticks");
        assertEquals(perInstruction.gpr(13), perBlock.gpr(13), "the instruction the last tick interrupted");
        assertEquals(perInstruction.gpr(14), perBlock.gpr(14), "RCX then");
    }

    @Test
    void sti_theNextInstructionStillRunsFirst_whenCountingPerBlock() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, PendingSelfIpiGuest.AFTER_STI, PER_BLOCK);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(1, run.gpr(14), "the interrupt came after exactly one instruction past sti");
    }

    @Test
    void popf_settingIf_deliversAtTheNextBoundary_whenCountingPerBlock() {
        InterruptGuest.Outcome run = InterruptGuest.boot(dir, PendingSelfIpiGuest.AFTER_POPF, PER_BLOCK);
        assertEquals(StopReason.EXIT_PORT, run.report().run().reason(), run.report().run().detail());
        assertEquals(0, run.gpr(14), "delivered right after popf");
    }

    /**
     * Virtual time across a block whose first instruction faults: the guest's #PF handler skips the load, and
     * the five nops after it run once, when the handler returns. R15 = the TSC's advance in between.
     */
    private static final String FAULT_INSIDE_A_BLOCK = GuestTraps.gate(ExceptionVector.PF, "pf") + """
                rdtsc                                  # engages virtual time (at the end of this block)
                jmp 0f
            0:  movabs rsi, 0x0000010000000000         # not mapped
                rdtsc
                jmp 1f
            1:  shl rdx, 32
                or rax, rdx
                mov r14, rax
                jmp 2f
            2:  mov rcx, [rsi]                         # #PF in the first instruction of this block
                nop
                nop
                nop
                nop
                nop
                rdtsc
                jmp 3f
            3:  shl rdx, 32
                or rax, rdx
                sub rax, r14
                mov r15, rax
            """ + InterruptGuest.EXIT + """
            pf:
                add rsp, 8                             # the error code
                add qword ptr [rsp], 3                 # past the 3-byte load
                iretq
            """ + GuestTraps.IDT_DATA;

    @Test
    void exceptionInsideABlock_countsOnlyTheInstructionsThatRan() {
        BothWays runs = bootBothWays(FAULT_INSIDE_A_BLOCK);
        InterruptGuest.Outcome perInstruction = runs.perInstruction(), perBlock = runs.perBlock();
        assertTrue(perInstruction.gpr(15) > 8, "the handler and the block between the two reads: "
                + perInstruction.gpr(15) + " ns");
        assertEquals(perInstruction.gpr(15), perBlock.gpr(15), "virtual nanoseconds between the two TSC reads");
    }
}
