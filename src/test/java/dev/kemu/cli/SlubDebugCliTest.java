package dev.kemu.cli;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 17: crafted guest bugs under `kemu boot --slub-debug`, the reports and the hypercall results. */
class SlubDebugCliTest {
    @TempDir
    Path dir;

    /** kmain: HC_MM_INIT, then {@code bug}; the exit port gets AL (0x7f when HC_MM_INIT failed). */
    private String kernel(String bug) {
        return TestKernels.withMemoryServices(dir, bug).toString();
    }

    @Test
    void offByOneWrite_isReportedAtKfree_whichReturnsEinval_withTheSymbolizedAllocSite() {
        String kernel = kernel("""
                    mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov byte ptr [rax + 32], 0x41     # p[32]: one byte past the object
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    neg eax                           # -EINVAL -> 22
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--slub-debug=FZPU");

        assertEquals(22 << 1 | 1, run.exit(), run.all());
        assertTrue(run.out().contains("BUG kmalloc-32 (Not tainted): Right Redzone overwritten"), run.all());
        assertTrue(run.out().matches("(?s).*INFO: 0x[0-9a-f]+-0x[0-9a-f]+ @offset=\\d+\\. First byte 0x41 instead of 0xcc\n.*"),
                run.all());
        assertTrue(run.out().matches("(?s).*INFO: Allocated in kmain\\+0x[0-9a-f]+ age=\\d+ cpu=0 pid=0\n.*"), run.all());
        assertTrue(run.out().contains("slub debug (FZPU): 1 report(s)"), run.all());
    }

    @Test
    void writeAfterKfree_isReportedAtTheNextKmalloc_withAllocAndFreeSites_andDoubleFreeIsEinval() {
        String kernel = kernel("""
                    mov edi, 64
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    mov dword ptr [rbx + 8], 0        # use after free
                    mov edi, 64
                    xor esi, esi
                    HYPERCALL HC_KMALLOC              # the same object again: poison checked
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    mov rdi, rbx
                    HYPERCALL HC_KFREE                # double free
                    neg eax
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--slub-debug=FZPU");

        assertEquals(22 << 1 | 1, run.exit(), run.all());
        assertTrue(run.out().contains("BUG kmalloc-64 (Not tainted): Poison overwritten"), run.all());
        assertTrue(run.out().matches("(?s).*@offset=\\d+\\. First byte 0x0 instead of 0x6b\n.*"), run.all());
        assertTrue(run.out().matches("(?s).*INFO: Freed in kmain\\+0x[0-9a-f]+ age=\\d+ cpu=0 pid=0\n.*"), run.all());
        assertTrue(run.out().contains("BUG kmalloc-64 (Not tainted): Object already free"), run.all());
        assertTrue(run.out().contains("slub debug (FZPU): 2 report(s)"), run.all());
    }

    @Test
    void cleanKernel_raisesNoReport_andWithoutTheOptionNothingIsPrinted() {
        String kernel = kernel("""
                    mov edi, 100
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov byte ptr [rax + 99], 0x41     # the last requested byte: fine
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                """);
        CliRun debug = CliRun.of("boot", "--kernel", kernel, "--slub-debug=FZPU");
        assertEquals(1, debug.exit(), debug.all());
        assertTrue(debug.out().contains("slub debug (FZPU): 0 report(s)"), debug.all());

        CliRun plain = CliRun.of("boot", "--kernel", kernel);
        assertFalse(plain.out().contains("slub debug"), plain.all());
    }

    @Test
    void unknownMode_isAUsageErrorNamingIt() {
        CliRun run = CliRun.of("boot", "--slub-debug=FX");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("--slub-debug 'FX': unknown mode 'X'"), run.all());
    }
}
