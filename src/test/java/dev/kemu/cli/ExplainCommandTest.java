package dev.kemu.cli;

import dev.kemu.debug.CKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code kemu explain} with symbols, source lines and the regions an address lies in. */
class ExplainCommandTest {
    @TempDir
    static Path dir;
    static CKernel cKernel;
    static ElfImage defaultKernel;

    @BeforeAll
    static void build() {
        cKernel = CKernel.build(dir, "dwarf_kernel.c", CKernel.FAULTING_SOURCE, 0);
        defaultKernel = ElfImage.read(TestKernels.defaultKernel().kernel());
    }

    @Test
    void symbolWithOffset_isResolvedFromTheKernelsSymbolTable() {
        CliRun run = CliRun.of("explain", "kernel_stack+0x10");
        assertEquals(0, run.exit(), run.all());
        long expected = defaultKernel.symbols().address("kernel_stack") + 0x10;
        assertEquals("V0x" + Long.toHexString(expected), run.labelled("address"));
        assertEquals("kernel_stack+0x10", run.labelled("symbol"));
        assertTrue(run.labelled("region").startsWith("kernel image section .bss [V0x"), run.out());
        assertTrue(run.out().contains("page walk of V0x" + Long.toHexString(expected)), run.out());
    }

    @Test
    void readOnlyDataSymbol_liesInRodata() {
        CliRun run = CliRun.of("explain", "hex_digits");
        assertEquals(0, run.exit(), run.all());
        assertEquals("hex_digits", run.labelled("symbol"));
        assertTrue(run.labelled("region").startsWith("kernel image section .rodata [V0x"), run.out());
    }

    @Test
    void directMapAndVmalloc_areNamedWhenTheKernelUsesTheMemoryServices() {
        CliRun direct = CliRun.of("explain", "0xffff800000201000");
        assertEquals(0, direct.exit(), direct.all());
        assertTrue(direct.labelled("region").contains("direct map of RAM [V0xffff800000000000, V0xffff800004000000): "
                + "physical P0x201000"), direct.out());
        assertTrue(direct.out().contains("\nvma: "), direct.out());
        CliRun vmalloc = CliRun.of("explain", "0xffffc90000000000");
        assertTrue(vmalloc.labelled("region").contains("vmalloc area [V0xffffc90000000000, "), vmalloc.out());
    }

    @Test
    void cKernelSymbol_showsItsSourceLineAndNoKemuRegions() {
        assumeTrue(CKernel.addr2lineInstalled(), "addr2line (GNU binutils) is not installed: no source lines to check");
        CliRun run = CliRun.of("explain", "kmain", "--kernel", cKernel.images().kernel().toString());
        assertEquals(0, run.exit(), run.all());
        Matcher symbol = Pattern.compile("kmain \\(dwarf_kernel\\.c:(\\d+)\\)").matcher(run.labelled("symbol"));
        assertTrue(symbol.matches(), run.out());
        int sourceLine = Integer.parseInt(symbol.group(1));
        assertTrue(sourceLine >= cKernel.lineOf("void kmain") && sourceLine <= cKernel.lineOf("read_unmapped(7)"), run.out());
        assertTrue(run.labelled("region").startsWith("kernel image section .text [V0x"), run.out());
        assertFalse(run.out().contains("vma"), run.out());
    }

    @Test
    void cKernelWithoutMemoryServices_directMapAddressIsNotKemusDirectMap() {
        CliRun run = CliRun.of("explain", "0xffff800000201000", "--kernel", cKernel.images().kernel().toString());
        assertEquals(0, run.exit(), run.all());
        assertEquals("none that kemu knows", run.labelled("region"));
        assertFalse(run.out().contains("vma"), run.out());
        assertFalse(run.out().contains("memory services"), run.out());
    }

    @Test
    void unknownSymbol_isAUsageErrorNamingIt() {
        CliRun run = CliRun.of("explain", "no_such_symbol");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("no symbol 'no_such_symbol' in "), run.all());
    }

    @Test
    void badOffset_isAUsageErrorSayingWhatAnOffsetIs() {
        CliRun run = CliRun.of("explain", "kmain+zz");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("bad offset in 'kmain+zz'"), run.all());
    }
}
