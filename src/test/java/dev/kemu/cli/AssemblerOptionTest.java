package dev.kemu.cli;

import dev.kemu.toolchain.keystone.KeystoneModule;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code kemu boot --assembler=keystone}: the kernel's code assembled by Keystone boots as GNU's does, and says so. */
class AssemblerOptionTest {
    @Test
    void keystoneAssembledKernel_saysSoFirst_andPrintsTheGnuKernelsConsole() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
        CliRun gnu = CliRun.of("boot");
        CliRun keystone = CliRun.of("boot", "--assembler=keystone");
        assertEquals(gnu.exit(), keystone.exit(), keystone.all());
        List<String> lines = keystone.out().lines().toList();
        assertTrue(lines.get(1).startsWith("assembler: boot.S .boot.text: ")
                && lines.get(1).endsWith("assembled by Keystone, identical to GNU as"), keystone.all());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("assembler: kmain.S .text: ")), keystone.all());
        assertEquals(console(gnu), console(keystone), keystone.all());
    }

    @Test
    void keystoneWithAKernelOfTheUsers_isAUsageError() {
        CliRun run = CliRun.of("boot", "--assembler=keystone", "--kernel", "some.elf");
        assertEquals(2, run.exit(), run.all());
        assertTrue(run.err().contains("--assembler keystone assembles kernel-asm/"), run.all());
    }

    @Test
    void unknownAssembler_isAUsageErrorNamingTheChoices() {
        CliRun run = CliRun.of("boot", "--assembler=nasm");
        assertEquals(2, run.exit(), run.all());
        assertTrue(run.err().contains("--assembler nasm: unknown assembler; use gnu or keystone"), run.all());
    }

    private static String console(CliRun run) {
        String out = run.out();
        return out.substring(out.indexOf("--- debug console ---"), out.indexOf("--- summary ---"));
    }
}
