package dev.kemu.testing;

import dev.kemu.debug.FaultReport;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repository's own guest code (kernel-asm/) under the guest-testing extension. */
@ExtendWith(KemuExtension.class)
class KernelAsmRoutinesTest {

    @Test
    void consolePutDec_printsUnsignedDecimal(Guest guest) {
        assertEquals("18446744073709551615", guest.call("console_put_dec", -1).console());
        assertEquals("0", guest.call("console_put_dec", 0).console());
    }

    @Test
    void consolePutHex_printsSixteenDigits_andPreservesRdi(Guest guest) {
        GuestRun run = guest.call("console_put_hex", 0xdeadbeefL);
        assertEquals("0x00000000deadbeef", run.console());
        assertEquals(0xdeadbeefL, run.register(X86Reg.RDI));
    }

    @Test
    void consolePuts_printsUpToTheNul(Guest guest) {
        GuestRun run = guest.run("""
                    lea rdi, [rip + text]
                    call console_puts
                .section .rodata
                text: .asciz "hello, kemu\\n"
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals("hello, kemu\n", run.console());
    }

    @Test
    void kmallocHypercall_fromATest_returnsWritableMemoryAndKfreeRejectsDoubleFree(Guest guest) {
        GuestRun run = guest.run("""
                    mov edi, 100
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov qword ptr [rbx + 96], 42
                    mov r12, qword ptr [rbx + 96]
                    mov rdi, rbx
                    HYPERCALL HC_KFREE
                    mov rdi, rbx
                    HYPERCALL HC_KFREE
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(GuestAbi.EINVAL, run.rax());
        assertEquals(42, run.register(X86Reg.R12));
        assertEquals(FreeResult.DOUBLE_FREE, run.invalidFrees().getFirst().result());
        assertEquals(0, run.slabInfo().stream().filter(s -> s.name().equals("kmalloc-128")).findFirst().orElseThrow()
                .activeObjects());
    }

    @Test
    void fault_isReportedWithItsFields(Guest guest) {
        GuestRun run = guest.run("""
                    movabs rax, 0x0000010000000000
                    mov rbx, qword ptr [rax + 8]
                """);
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason());
        FaultReport fault = run.fault().orElseThrow();
        assertEquals("0x10000000008", fault.address());
        assertEquals("read", fault.access());
        assertTrue(fault.reason().startsWith("PML4 entry 2 not present"), fault.reason());
        assertFalse(run.recentBlocks().isEmpty());
        assertTrue(run.describe().contains("page walk of V0x10000000008"), run.describe());
    }

    @Test
    void runawayCode_endsAtTheBudget(Guest guest) {
        GuestRun run = guest.budget(5_000).run("1: jmp 1b");
        assertEquals(StopReason.BUDGET_EXHAUSTED, run.stopReason());
        assertEquals(5_000, run.instructions());
    }

    @Test
    void sameCode_givesTheSameInstructionCountAndResultEveryRun(Guest guest) {
        String code = """
                    mov ecx, 100
                    xor eax, eax
                1:  add rax, rcx
                    loop 1b
                    mov edi, 24
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                """;
        GuestRun first = guest.run(code);
        long count = first.instructions();
        long address = first.rax();
        for (int i = 0; i < 5; i++) {
            GuestRun again = guest.run(code);
            assertEquals(count, again.instructions());
            assertEquals(address, again.rax(), "same allocator state every run");
        }
    }

    @Test
    void earlierRuns_areInvisibleToLaterOnes(Guest guest) {
        long marker = 0xffff800000400000L;
        GuestRun first = guest.run("""
                    movabs rdi, 0xffff800000400000
                    mov rax, [rdi]
                    mov qword ptr [rdi], 0x5a5a
                """);
        assertEquals(0, first.rax());
        GuestRun second = guest.run("""
                    movabs rdi, 0xffff800000400000
                    mov rax, [rdi]
                """);
        assertEquals(0, second.rax(), "the write of the first run was undone");
        assertEquals(0, second.read64(marker));
    }

    @Test
    void runFile_runsGuestCodeFromTheRepository(Guest guest) {
        GuestRun run = guest.runFile("kernel-asm/tests/sum_to_n.S");
        assertTrue(run.completed(), run.describe());
        assertEquals(5050, run.rax());
    }
}
