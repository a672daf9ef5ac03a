package dev.kemu.testing;

import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.machine.StopReason;
import dev.kemu.toolchain.Diagnostic;
import dev.kemu.toolchain.ToolchainException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The extension on a kernel of the user's own ({@link UserKernel}): booted to {@code kernel_main}, snippets
 * linked against its symbols, its own #PF handler runs when the test asks for delivery, and kemu's
 * allocator assertions refuse clearly since the kernel does not use kemu's memory services.
 */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = UserKernel.IMAGE, snapshotAt = "kernel_main")
class UserKernelTest {
    private static final long UNMAPPED = 0x4000_0000L; // PDPT entry 1 of the identity half: not present

    @BeforeAll
    static void buildKernel() {
        UserKernel.build();
    }

    @Test
    void snippet_callsTheUserKernelsRoutineBySymbol(Guest guest) {
        GuestRun run = guest.set(dev.kemu.unicorn.X86Reg.RDI, 40).set(dev.kemu.unicorn.X86Reg.RSI, 2)
                .run("call kernel_add");
        assertTrue(run.completed(), run.describe());
        assertEquals(42, run.rax());
    }

    @Test
    void snapshotAtSymbol_isBeforeTheSymbolsFirstInstruction(Guest guest) {
        GuestRun run = guest.run("mov rax, [rip + main_entered]");
        assertTrue(run.completed(), run.describe());
        assertEquals(0, run.rax(), "kernel_main had already run when the snapshot was taken");
    }

    @Test
    void onFaultDeliver_runsTheKernelsOwnPageFaultHandler(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.DELIVER).run(faultingSnippet());
        assertTrue(run.completed(), run.describe());
        assertEquals(1, run.read64(symbol(guest, "pf_count")));
        assertEquals(UNMAPPED, run.read64(symbol(guest, "pf_address")));
        assertTrue(run.faults().isEmpty() || run.fault().get().text().contains("delivered"), run.describe());
    }

    @Test
    void onFaultReport_stopsWithAReportAndTheHandlerNeverRuns(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.REPORT).run(faultingSnippet());
        assertEquals(StopReason.UNHANDLED_EXCEPTION, run.stopReason(), run.describe());
        assertTrue(run.fault().orElseThrow().address().contains(Long.toHexString(UNMAPPED)), run.describe());
        assertEquals(0, run.read64(symbol(guest, "pf_count")));
    }

    @Test
    void onFault_lastsForTheTestOnly_theNextTestGetsTheBootPolicy(Guest guest) {
        assertEquals(FaultPolicy.REPORT, guest.machine().boot().faults().policy());
        guest.onFault(FaultPolicy.DELIVER).run("nop");
        assertEquals(FaultPolicy.REPORT, guest.machine().boot().faults().policy());
    }

    @Test
    void allocatorAssertions_sayTheKernelDoesNotUseKemusMemoryServices(Guest guest) {
        GuestRun run = guest.run("nop");
        assertFalse(guest.machine().usesMemoryServices());
        IllegalStateException refused = assertThrows(IllegalStateException.class, run::slabInfo);
        assertTrue(refused.getMessage().contains("does not use kemu's memory services"), refused.getMessage());
    }

    @Test
    void memoryMap_handsTheKernelNoneOfTheHarnessReserve(Guest guest) {
        var ram = guest.machine().machine().ram();
        long usableEnd = MultibootInfo.readMemoryMap(ram).stream().filter(e -> e.type() == MemoryMapEntry.USABLE)
                .mapToLong(e -> e.base() + e.length()).max().orElseThrow();
        long codePhys = guest.machine().machine().physical(TestMachine.CODE_VA);
        assertTrue(codePhys >= usableEnd, String.format("code area P0x%x inside usable RAM below P0x%x", codePhys, usableEnd));
    }

    @Test
    void runFile_assemblerErrorNamesTheUsersFileAndItsOwnLine(Guest guest) throws IOException {
        Path file = ProjectFiles.resolve("target/user-kernel/broken.S");
        Files.writeString(file, "nop\nmov rax, 1\nnot_an_instruction rax\n");
        ToolchainException error = assertThrows(ToolchainException.class, () -> guest.runFile("target/user-kernel/broken.S"));
        Diagnostic first = error.diagnostics().getFirst();
        assertEquals(file.toString(), first.file(), error.getMessage());
        assertEquals(3, first.line(), error.getMessage());
    }

    @Test
    void inlineSnippet_assemblerErrorCountsTheSnippetsOwnLines(Guest guest) {
        ToolchainException error = assertThrows(ToolchainException.class, () -> guest.run("nop\nbogus_op\n"));
        Diagnostic first = error.diagnostics().getFirst();
        assertEquals(SnippetAssembler.INLINE, first.file(), error.getMessage());
        assertEquals(2, first.line(), error.getMessage());
    }

    @Test
    void runC_callsTheKernelsRoutineFromC(Guest guest) {
        GuestRun run = guest.runC("""
                extern long kernel_add(long a, long b);
                long kemu_test(void) { return kernel_add(40, 2) * 10; }
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(420, run.rax());
    }

    @Test
    void runC_compilerErrorCountsTheSourcesOwnLines(Guest guest) {
        ToolchainException error = assertThrows(ToolchainException.class,
                () -> guest.runC("long kemu_test(void) {\n    return undeclared_name;\n}\n"));
        Diagnostic first = error.diagnostics().getFirst();
        assertEquals(SnippetAssembler.INLINE + ".c", first.file(), error.getMessage());
        assertEquals(2, first.line(), error.getMessage());
    }

    @Test
    void runFile_ofACFile_writesTheKernelsGlobal(Guest guest) throws IOException {
        Files.writeString(ProjectFiles.resolve("target/user-kernel/set.c"),
                "extern long pf_count;\nlong kemu_test(void) { pf_count = 77; return pf_count + 1; }\n");
        GuestRun run = guest.runFile("target/user-kernel/set.c");
        assertTrue(run.completed(), run.describe());
        assertEquals(78, run.rax());
        assertEquals(77, run.read64(symbol(guest, "pf_count")));
    }

    private static String faultingSnippet() {
        return String.format("""
                    lea rax, [rip + 1f]
                    mov [rip + pf_resume], rax
                    mov rcx, 0x%x
                    mov rax, [rcx]
                1:
                """, UNMAPPED);
    }

    private static long symbol(Guest guest, String name) {
        return guest.machine().boot().symbols().address(name);
    }
}
