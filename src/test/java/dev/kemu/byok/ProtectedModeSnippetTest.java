package dev.kemu.byok;

import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.testing.KemuKernel;
import dev.kemu.toolchain.AssemblyException;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guest tests of a 32-bit kernel ({@code serial32.elf}: ELF32, protected mode, no paging), snapshotted at
 * {@code kernel_main}: snippets are 32-bit code, run at their physical address in the harness's reserve
 * through the kernel's flat segments, and call the kernel's C functions with its own (cdecl) convention.
 */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = "target/test-kernels/serial32.elf", snapshotAt = "kernel_main", commandLine = "exit=7")
class ProtectedModeSnippetTest {
    @BeforeAll
    static void buildKernel() {
        TestKernelBuild.kernel("serial32.elf");
    }

    @Test
    void snippet_runsAs32BitCode(Guest guest) {
        // pushad/popad do not exist in 64-bit code, and 0x40 (`inc eax` here) would be a REX prefix there
        GuestRun run = guest.set(X86Reg.RCX, 41).run("""
                    mov eax, ecx
                    pushad
                    popad
                    inc eax
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(42, run.rax(), run.describe());
    }

    @Test
    void snippet_callsTheKernelsCFunction_withItsStackArguments(Guest guest) {
        GuestRun run = guest.run("""
                    push 0                  # put_dec(DEBUGCON, 1234ULL): the high half first
                    push 1234
                    push 2
                    call put_dec
                    add esp, 12
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals("1234", run.console(), run.describe());
    }

    @Test
    void snippetLabels_andDataSections_work32Bit(Guest guest) {
        GuestRun run = guest.run("""
                    mov ecx, 3
                    xor eax, eax
                1:  add eax, dword ptr [table + ecx * 4 - 4]
                    loop 1b
                .data
                .align 4
                table: .long 100, 20, 3
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(123, run.rax(), run.describe());
    }

    @Test
    void sixtyFourBitRegister_inA32BitSnippet_isAnErrorAtItsLine(Guest guest) {
        AssemblyException error = assertThrows(AssemblyException.class, () -> guest.run("    nop\n    mov rax, 1\n"));
        assertEquals(2, error.diagnostics().getFirst().line(), error.getMessage());
    }

    @Test
    void guestCodeInC_onA32BitKernel_isCompiledWithM32_andCallsTheKernel(Guest guest) {
        GuestRun run = guest.runC("""
                #include <stdint.h>
                void put_dec(int where, uint64_t value); /* the kernel's, cdecl: where, then the 64-bit value */
                static const int table[4] = {1, 20, 300, 4000};
                long kemu_test(void) {
                    int sum = 0;
                    for (int i = 0; i < 4; i++)
                        sum += table[i];
                    put_dec(2, sum);
                    return sizeof(long) * 1000000 + sum;
                }
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals("4321", run.console(), run.describe());
        assertEquals(4_004_321L, run.rax() & 0xffffffffL, "sizeof(long) is 4: gcc -m32 " + run.describe());
    }

    @Test
    void aCError_onA32BitKernel_namesTheLine(Guest guest) {
        AssemblyException error = assertThrows(AssemblyException.class,
                () -> guest.runC("long kemu_test(void) {\n    return undefined_name;\n}\n"));
        assertEquals(2, error.diagnostics().getFirst().line(), error.getMessage());
    }
}
