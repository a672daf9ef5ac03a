package dev.kemu.cli;

import dev.kemu.debug.CKernel;
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
    static AddressCommandChecks kernels;

    @BeforeAll
    static void build() {
        kernels = AddressCommandChecks.build(dir, "dwarf_kernel.c");
    }

    @Test
    void symbolWithOffset_isResolvedFromTheKernelsSymbolTable() {
        CliRun run = kernels.kernelStackPlus0x10("explain");
        assertTrue(run.out().contains("page walk of V0x" + Long.toHexString(kernels.kernelStackPlus0x10Address())),
                run.out());
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
        CliRun run = kernels.onCKernel("explain", "kmain");
        Matcher symbol = Pattern.compile("kmain \\(dwarf_kernel\\.c:(\\d+)\\)").matcher(run.labelled("symbol"));
        assertTrue(symbol.matches(), run.out());
        int sourceLine = Integer.parseInt(symbol.group(1));
        CKernel cKernel = kernels.cKernel();
        assertTrue(sourceLine >= cKernel.lineOf("void kmain") && sourceLine <= cKernel.lineOf("read_unmapped(7)"), run.out());
        assertTrue(run.labelled("region").startsWith("kernel image section .text [V0x"), run.out());
        assertFalse(run.out().contains("vma"), run.out());
    }

    @Test
    void cKernelWithoutMemoryServices_directMapAddressIsNotKemusDirectMap() {
        CliRun run = kernels.onCKernel("explain", "0xffff800000201000");
        assertEquals("none that kemu knows", run.labelled("region"));
        assertFalse(run.out().contains("vma"), run.out());
        assertFalse(run.out().contains("memory services"), run.out());
    }

    @Test
    void unknownSymbol_isAUsageErrorNamingIt() {
        AddressCommandChecks.assertUnknownSymbolIsUsageError("explain");
    }

    @Test
    void badOffset_isAUsageErrorSayingWhatAnOffsetIs() {
        CliRun run = CliRun.of("explain", "kmain+zz");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("bad offset in 'kmain+zz'"), run.all());
    }
}
