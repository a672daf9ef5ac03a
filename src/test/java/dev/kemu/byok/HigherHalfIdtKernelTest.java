package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code higher64}: a 64-bit higher-half C kernel with its own boot code, page tables and IDT, linked
 * as ELF64 ({@code higher64.elf}) and converted to elf32-i386 for QEMU ({@code higher64.elf32}). Its
 * #PF handler maps the missing page and returns, so the store is retried (twice); its #UD handler skips
 * the ud2. It exits with 0x10 * page faults + invalid opcodes = 0x21.
 */
class HigherHalfIdtKernelTest {
    private static final int EXIT_CODE = 0x21;
    /** A #PF line; the faulting store's RIP is captured (it lies inside kernel_main). */
    private static final String PAGE_FAULT = "higher64: #PF at rip (0x[0-9a-f]+), cs 0x8, error code 0x2\n";

    @TempDir
    Path dir;

    private static Path qemuImage() {
        return TestKernelBuild.kernel("higher64.elf32");
    }

    private static void assertHandlersRanAndReturned(GuestOutput run) {
        NmSymbols symbols = NmSymbols.of(TestKernelBuild.kernel("higher64.elf"));
        String expected = Pattern.quote("higher64: in long mode at " + symbols.hex("kernel_main") + "\n"
                + "higher64: IDT loaded, window at 0xffffffff81000000 unmapped\n")
                + PAGE_FAULT
                + Pattern.quote("higher64: cr2 0xffffffff81000000\n"
                + "higher64: mapped page 0 of the window, retrying\n")
                + PAGE_FAULT
                + Pattern.quote("higher64: cr2 0xffffffff81002008\n"
                + "higher64: mapped page 2 of the window, retrying\n"
                + "higher64: window reads back 0x1122334455667788 and 0xcafe\n"
                + "higher64: #UD at rip " + symbols.hex("invalid_opcode_site") + ", cs 0x8, error code 0x0\n"
                + "higher64: rip is the ud2, skipping it\n"
                + "higher64: resumed after #UD\n"
                + "higher64: exiting with code 0x21\n");
        Matcher matcher = Pattern.compile(expected).matcher(run.debugConsole());
        assertTrue(matcher.matches(), () -> "expected the lines of\n" + expected + "\n" + run.describe());
        for (int store = 1; store <= 2; store++) {
            long rip = Long.parseUnsignedLong(matcher.group(store).substring(2), 16);
            assertTrue(symbols.inside("kernel_main", rip), "#PF " + store + " at " + matcher.group(store)
                    + " is not a store in kernel_main\n" + run.describe());
        }
        assertEquals(SameAsQemu.onSerial(run.debugConsole()), run.serial(), run::describe);
        assertEquals(EXIT_CODE << 1 | 1, run.exitStatus(), run::describe);
    }

    @Test
    void underQemu_pageFaultAndInvalidOpcodeHandlersRunAndReturn() {
        QemuRunner.assumeInstalled();
        assertHandlersRanAndReturned(QemuRunner.boot(qemuImage(), dir));
    }

    /** kemu takes the ELF32 form QEMU takes and the ELF64 the linker made. */
    @ParameterizedTest
    @ValueSource(strings = {"higher64.elf32", "higher64.elf"})
    void underKemu_pageFaultAndInvalidOpcodeHandlersRunAndReturn(String image) {
        assertHandlersRanAndReturned(KemuCommand.boot(TestKernelBuild.kernel(image), dir, null));
    }

    @Test
    void underKemuAndQemu_sameSerialDebugConsoleAndExitStatus() {
        QemuRunner.assumeInstalled();
        SameAsQemu.assertSameOutputAndStatus(QemuRunner.boot(qemuImage(), dir), KemuCommand.boot(qemuImage(), dir, null));
    }
}
