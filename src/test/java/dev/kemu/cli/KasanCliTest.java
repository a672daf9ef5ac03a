package dev.kemu.cli;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 17: crafted guest bugs under `kemu boot --kasan`, caught at the faulting instruction. */
class KasanCliTest {
    @TempDir
    Path dir;

    /** kmain: HC_MM_INIT, then {@code bug} (labels {@code bad:} on the faulting instruction); exit code AL. */
    private String kernel(String bug) {
        return TestKernels.withMemoryServices(dir, bug + "    xor eax, eax\n").toString(); // exit 0 after the bug
    }

    private static String only(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), () -> "no line matching " + regex + " in:\n" + text);
        return m.group(1);
    }

    @Test
    void readAfterKfree_isASlabUseAfterFree_atTheReadingInstruction_withBothSites() {
        String kernel = kernel("""
                    mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov qword ptr [rbx], 1            # allocated: fine
                    mov rdi, rbx
                    HYPERCALL HC_KFREE
                    mov rcx, qword ptr [rbx + 8]      # read 8 bytes of the freed object
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--kasan");

        String out = run.out();
        assertTrue(out.contains("BUG: KASAN: slab-use-after-free in kmain+0x"), run.all());
        String addr = only(out, "^Read of size 8 at addr ([0-9a-f]+) by task");
        String object = only(out, "^The buggy address belongs to the object at ([0-9a-f]+)$");
        assertEquals(8, Long.parseUnsignedLong(addr, 16) - Long.parseUnsignedLong(object, 16), out);
        assertTrue(out.contains(" which belongs to the cache kmalloc-32 of size 32"), out);
        assertTrue(out.contains("The buggy address is located 8 bytes inside of\n freed 32-byte region ["), out);
        assertTrue(out.matches("(?s).*\nAllocated by task 0 on cpu 0 at instruction \\d+:\n kmain\\+0x[0-9a-f]+\n.*"), out);
        assertTrue(out.matches("(?s).*\nFreed by task 0 on cpu 0 at instruction \\d+:\n kmain\\+0x[0-9a-f]+\n.*"), out);
        assertTrue(out.contains("kasan: 1 report(s)"), out);
    }

    @Test
    void writeAfterKfree_isReportedWithTheWrite_andTheSymbolOfTheStore() {
        String kernel = kernel("""
                    mov edi, 64
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov rdi, rax
                    HYPERCALL HC_KFREE
                    call poke
                    jmp 3f
                poke:
                    mov dword ptr [rbx + 4], 0        # write 4 bytes into the freed object
                    ret
                3:
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--kasan");

        String out = run.out();
        assertTrue(out.contains("BUG: KASAN: slab-use-after-free in poke\n"), run.all());
        assertTrue(out.matches("(?s).*\nWrite of size 4 at addr [0-9a-f]+ by task.*"), out);
        assertTrue(out.contains(" which belongs to the cache kmalloc-64 of size 64"), out);
        assertTrue(out.contains("The buggy address is located 4 bytes inside of\n freed 64-byte region"), out);
    }

    @Test
    void offByOneWrite_isASlabOutOfBounds_oneByteToTheRight_andInBoundsAccessesAreNotReported() {
        String kernel = kernel("""
                    mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov qword ptr [rbx + 24], 7       # the last 8 bytes: fine
                    mov al, byte ptr [rbx + 31]       # fine
                    mov byte ptr [rbx + 32], 0x41     # p[32]: one byte past the object
                    mov rdi, rbx
                    HYPERCALL HC_KFREE
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--kasan");

        String out = run.out();
        assertTrue(out.contains("BUG: KASAN: slab-out-of-bounds in kmain+0x"), run.all());
        assertTrue(out.matches("(?s).*\nWrite of size 1 at addr [0-9a-f]+ by task.*"), out);
        assertTrue(out.contains("The buggy address is located 0 bytes to the right of\n allocated 32-byte region ["), out);
        assertTrue(out.contains(" which belongs to the cache kmalloc-32 of size 32"), out);
        assertTrue(out.matches("(?s).*\nAllocated by task 0 on cpu 0 at instruction \\d+:\n kmain\\+0x[0-9a-f]+\n.*"), out);
        assertFalse(out.contains("\nFreed by"), out);
        assertTrue(out.contains("kasan: 1 report(s)"), out);
    }

    @Test
    void straddlingTheObjectsEnd_isReportedAtTheAccessAddress() {
        String kernel = kernel("""
                    mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov qword ptr [rax + 28], 0       # bytes 28..35: the last four are past the end
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--kasan");

        String out = run.out();
        assertTrue(out.contains("BUG: KASAN: slab-out-of-bounds in kmain+0x"), run.all());
        assertTrue(out.contains("The buggy address is located 28 bytes inside of\n allocated 32-byte region"), out);
    }

    @Test
    void writeIntoAVmallocGuardPage_isAVmallocOutOfBounds_withTheArea() {
        String kernel = kernel("""
                    mov edi, 4096
                    HYPERCALL HC_VMALLOC
                    mov qword ptr [rax + 4096], 1     # the guard page right after the area
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel, "--kasan");

        String out = run.out();
        assertTrue(out.contains("BUG: KASAN: vmalloc-out-of-bounds in kmain+0x"), run.all());
        assertTrue(out.matches("(?s).*\nWrite of size 8 at addr [0-9a-f]+ by task.*"), out);
        assertTrue(out.contains("The buggy address is located 0 bytes to the right of\n allocated 4096-byte region"), out);
        assertTrue(out.contains("kasan: 1 report(s)"), out);
    }

    @Test
    void kemusOwnKernel_bootsCleanUnderKasanAndSlubDebug_theDoubleFreeStaysASlubReport() {
        CliRun run = CliRun.of("boot", "--kasan", "--slub-debug=FZPU");

        String out = run.out();
        assertTrue(out.contains("kmain: done, halting"), run.all());
        assertTrue(out.contains("kasan: 0 report(s)"), run.all());
        assertFalse(out.contains("BUG: KASAN"), run.all());
        assertTrue(out.contains("BUG kmalloc-32 (Not tainted): Object already free"), run.all()); // mm_demo, on purpose
    }

    @Test
    void withoutKasan_nothingIsWatched() {
        String kernel = kernel("""
                    mov edi, 32
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov byte ptr [rax + 32], 0x41
                """);
        CliRun run = CliRun.of("boot", "--kernel", kernel);

        assertFalse(run.out().contains("KASAN"), run.all());
        assertFalse(run.out().contains("kasan:"), run.all());
    }
}
