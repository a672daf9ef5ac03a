package dev.kemu.testing;

import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repros of issue 11, defects 1-3: after a reset, every byte of RAM and all translated code is as snapshotted. */
class RestoreExactnessTest {
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

    private static void runThenAssertExactReset(String source) {
        machine.run(source, Map.of(), 100_000);
        machine.reset();
        Optional<String> difference = pristine.difference(machine.machine());
        assertEquals(Optional.empty(), difference, "after running:\n" + source);
    }

    @Test
    void reset_afterStoreThroughPml4AndDirectMap_restoresBoth() {
        runThenAssertExactReset("""
                    movabs rax, 0xffffffff80101000      # the PML4 itself: removes the identity map
                    mov qword ptr [rax], 0
                    movabs rsi, 0xffff800000500000
                    mov qword ptr [rsi], 0x1234
                """);
        GuestRun next = machine.run("""
                    movabs rsi, 0xffff800000500000
                    mov rax, [rsi]
                """, Map.of(), 1000);
        assertTrue(next.completed(), next.describe());
        assertEquals(0, next.rax());
    }

    @Test
    void reset_afterIdentityMapUnmappedByHypercall_restoresLaterStores() {
        runThenAssertExactReset("""
                    xor edi, edi
                    mov esi, 0x200000
                    HYPERCALL HC_VMUNMAP
                    movabs rsi, 0xffff800000180000      # a frame only the removed 2 MiB page mapped 1:1
                    mov qword ptr [rsi], 0x1234
                """);
    }

    @Test
    void reset_afterSelfModifyingLowMemoryCode_restoresEveryPage() {
        runThenAssertExactReset("""
                    mov eax, 0xf3e
                    call rax
                """);
    }

    @Test
    void reset_afterStoreSplitOverTwoPagesOfDistantFrames_restoresBoth() {
        runThenAssertExactReset("""
                    movabs rdi, 0xffffc80000000000
                    mov esi, 0x700000
                    mov edx, PTE_WRITABLE
                    HYPERCALL HC_VMMAP
                    movabs rdi, 0xffffc80000001000
                    mov esi, 0x300000                   # the next virtual page, 4 MiB lower in RAM
                    mov edx, PTE_WRITABLE
                    HYPERCALL HC_VMMAP
                    movabs rax, 0xffffc80000000ffc
                    mov qword ptr [rax], -1
                """);
    }

    @Test
    void reset_afterMisalignedStoreIntoTheRunningCode_restoresLaterStores() {
        runThenAssertExactReset("""
                    lea rax, [rip + 1f]
                    mov dword ptr [rax + 1], 0x90909090 # misaligned store into this very block
                1:  nop
                    nop
                    nop
                    nop
                    nop
                    nop
                    movabs rsi, 0xffff800000600000
                    mov qword ptr [rsi], 0x4321         # Unicorn reports no writes after the re-executed store
                """);
    }

    @Test
    void reset_afterKernelRoutinePatched_dropsItsTranslatedCode() {
        GuestRun patched = machine.run("""
                    lea rdx, [rip + console_put_dec]
                    mov byte ptr [rdx], 0xc3
                    mov edi, 7
                    call console_put_dec
                """, Map.of(), 100_000);
        assertEquals("", patched.console());
        machine.reset();
        GuestRun run = machine.run("    call console_put_dec", Map.of(X86Reg.RDI, 255L), 100_000);
        assertEquals("255", run.console(), run.describe());
    }

    @Test
    void run_sameSelfModifyingSnippetTwice_givesTheSameAnswer() {
        String source = """
                    call 2f
                    mov r12, rbx                        # the answer before the patch
                    lea rdx, [rip + 2f]
                    mov byte ptr [rdx + 1], 7           # mov ebx, 1 -> mov ebx, 7
                    call 2f
                    jmp 3f
                2:  mov ebx, 1
                    ret
                3:
                """;
        GuestRun first = machine.run(source, Map.of(), 1000);
        assertEquals(1, first.register(X86Reg.R12), first.describe());
        assertEquals(7, first.register(X86Reg.RBX));
        GuestRun second = machine.run(source, Map.of(), 1000);
        assertEquals(1, second.register(X86Reg.R12), "stale translated code ran: " + second.describe());
        assertEquals(7, second.register(X86Reg.RBX));
    }

    /** Maps V0xffffc80000000000 (the host builds new tables), then finds its page table's physical address in RBX. */
    private static final String MAP_AND_FIND_THE_NEW_PAGE_TABLE = """
                xor edi, edi
                mov esi, ALLOC_ZERO
                HYPERCALL HC_FRAME_ALLOC
                mov rsi, rax
                movabs rdi, 0xffffc80000000000
                mov edx, PTE_WRITABLE
                HYPERCALL HC_VMMAP
                movabs r8, 0xffff800000000000       # the direct map
                movabs r9, 0x000ffffffffff000       # address bits of an entry
                mov rbx, cr3
                and rbx, r9
                mov rbx, [r8 + rbx + 400 * 8]       # PML4 entry of V0xffffc80000000000
                and rbx, r9
                mov rbx, [r8 + rbx]                 # PDPT entry 0
                and rbx, r9
                mov rbx, [r8 + rbx]                 # PD entry 0
                and rbx, r9                         # the page table
            """;

    @Test
    void reset_afterGuestStoreIntoATableTheHostAdded_comparesAllRam() {
        long before = machine.fullRestores();
        runThenAssertExactReset(MAP_AND_FIND_THE_NEW_PAGE_TABLE + """
                    mov rax, [r8 + rbx + 8]
                    mov [r8 + rbx + 8], rax             # an entry the MMU would follow: anything it points at may get A/D bits
                """);
        assertEquals(before + 1, machine.fullRestores(), "a guest store into a new page table must make the restore compare all RAM");
    }

    @Test
    void reset_afterHostAddedTablesAndPlainStores_keepsToTheTrackedPages() {
        long before = machine.fullRestores();
        runThenAssertExactReset(MAP_AND_FIND_THE_NEW_PAGE_TABLE + """
                    movabs rax, 0xffffc80000000008
                    mov qword ptr [rax], rbx
                """);
        assertEquals(before, machine.fullRestores(), "no store reached a page table: the tracked pages suffice");
    }

    @Test
    void reset_afterWalksThatSetAccessedAndDirtyBits_restoresTheTablesWithoutComparingAllRam() {
        long before = machine.fullRestores();
        // Loads and stores through entries the boot never used: the MMU sets their A and D bits with
        // no store a hook sees, and the restore must find those few entries among the settled ones.
        runThenAssertExactReset("""
                    movabs rsi, 0xffff800000300000
                    mov rax, [rsi]
                    movabs rsi, 0xffff800001e00000
                    mov rax, [rsi]
                    movabs rsi, 0xffff800003a00040
                    mov qword ptr [rsi], 0x5678
                """);
        assertEquals(before, machine.fullRestores(), "only the MMU wrote the tables: the tracked pages and open entries suffice");
    }
}
