package dev.kemu.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kemu whatis}: symbols, frames and owners after a boot of kemu's kernel and of a kernel of its own. */
class WhatIsCommandTest {
    @TempDir
    static Path dir;
    static AddressCommandChecks kernels;

    @BeforeAll
    static void build() {
        kernels = AddressCommandChecks.build(dir, "whatis_kernel.c");
    }

    @Test
    void bssSymbol_isAKernelImageFrameInBss() {
        CliRun run = kernels.kernelStackPlus0x10("whatis");
        assertTrue(run.labelled("physical").startsWith("P0x"), run.out());
        assertTrue(run.labelled("frame").endsWith(", kernel image"), run.out());
    }

    @Test
    void physicalAddress_namesItsDirectMapAddressAndFrame() {
        CliRun run = CliRun.of("whatis", "P0x201000");
        assertEquals(0, run.exit(), run.all());
        assertEquals("P0x201000", run.labelled("address"));
        assertEquals("V0xffff800000201000 in the direct map", run.labelled("virtual"));
        assertTrue(run.labelled("frame").startsWith("P0x201000 (frame 0x201), "), run.out());
        assertFalse(run.out().contains("\nsymbol: "), run.out());
    }

    @Test
    void cKernelWithoutMemoryServices_saysSoAndKeepsSymbolAndWalk() {
        CliRun run = kernels.onCKernel("whatis", "kmain");
        assertTrue(run.labelled("symbol").startsWith("kmain"), run.out());
        assertTrue(run.labelled("region").startsWith("kernel image section .text [V0x"), run.out());
        assertTrue(run.labelled("physical").startsWith("P0x"), run.out());
        assertTrue(run.labelled("frame").startsWith("unknown: the kernel did not initialise kemu's memory services"),
                run.out());
        assertFalse(run.out().contains("owner:"), run.out());
    }

    @Test
    void unknownSymbol_isAUsageErrorNamingIt() {
        AddressCommandChecks.assertUnknownSymbolIsUsageError("whatis");
    }

    @Test
    void physicalPrefixWithoutHex_isAUsageError() {
        CliRun run = CliRun.of("whatis", "P0xzz");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("P0xzz"), run.all());
    }
}
