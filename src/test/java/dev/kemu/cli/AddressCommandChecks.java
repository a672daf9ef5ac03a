package dev.kemu.cli;

import dev.kemu.debug.CKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.testutil.TestKernels;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code kemu explain} and {@code kemu whatis} share: both take an address or symbol and label what they
 * find, so their tests share the kernels (kemu's and a faulting C kernel of the test's own) and the checks of the
 * lines both print alike.
 */
record AddressCommandChecks(CKernel cKernel, ElfImage defaultKernel) {
    static AddressCommandChecks build(Path dir, String cSourceName) {
        return new AddressCommandChecks(CKernel.build(dir, cSourceName, CKernel.FAULTING_SOURCE, 0),
                ElfImage.read(TestKernels.defaultKernel().kernel()));
    }

    /** Runs {@code command kernel_stack+0x10}, checks the address, symbol and .bss region lines, returns the run. */
    CliRun kernelStackPlus0x10(String command) {
        CliRun run = CliRun.of(command, "kernel_stack+0x10");
        assertEquals(0, run.exit(), run.all());
        assertEquals("V0x" + Long.toHexString(kernelStackPlus0x10Address()), run.labelled("address"));
        assertEquals("kernel_stack+0x10", run.labelled("symbol"));
        assertTrue(run.labelled("region").startsWith("kernel image section .bss [V0x"), run.out());
        return run;
    }

    long kernelStackPlus0x10Address() {
        return defaultKernel.symbols().address("kernel_stack") + 0x10;
    }

    /** Runs {@code command address --kernel <the C kernel>} and checks it succeeded. */
    CliRun onCKernel(String command, String address) {
        CliRun run = CliRun.of(command, address, "--kernel", cKernel.images().kernel().toString());
        assertEquals(0, run.exit(), run.all());
        return run;
    }

    static void assertUnknownSymbolIsUsageError(String command) {
        CliRun run = CliRun.of(command, "no_such_symbol");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("no symbol 'no_such_symbol' in "), run.all());
    }
}
