package dev.kemu.cli;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./kemu boot}'s exit status: QEMU's isa-debug-exit convention for guest exits, even numbers for kemu's own. */
class ExitStatusTest {
    @TempDir
    Path dir;

    private String kernelWritingExitPort(int value) {
        return TestKernels.withKmain(dir, """
                    mov eax, %d
                    out EXIT_PORT, eax
                    hlt
                """.formatted(value)).kernel().toString();
    }

    @Test
    void guestWritingOne_exitsWithThree() {
        CliRun run = CliRun.of("boot", "--kernel", kernelWritingExitPort(1));
        assertEquals(3, run.exit(), run.all());
        assertTrue(run.err().contains("exit status 3: the guest wrote 0x1 to the exit port 0xF4 (1 << 1 | 1)"), run.all());
    }

    @Test
    void guestWritingAWideValue_keepsTheLowEightBitsOfValueShiftedLeftOrOne() {
        // QEMU exits with (value << 1) | 1; the operating system keeps the low 8 bits.
        assertEquals(0x21, CliRun.of("boot", "--kernel", kernelWritingExitPort(0x10)).exit());
        assertEquals(((0x1234 << 1) | 1) & 0xff, CliRun.of("boot", "--kernel", kernelWritingExitPort(0x1234)).exit());
    }

    @Test
    void defaultKernelWithTwoMiB_failsItsMemoryDemoAndExitsWithThree() {
        CliRun run = CliRun.of("boot", "--ram", "2");
        assertTrue(run.out().contains("mm: FAILED"), run.all());
        assertEquals(3, run.exit(), run.all());
    }

    @Test
    void defaultKernel_writesZeroAndExitsWithOne() {
        CliRun run = CliRun.of("boot");
        assertEquals(1, run.exit(), run.all());
    }

    @Test
    void haltInKmainWithoutExitPort_exitsZero() {
        String kernel = TestKernels.withKmain(dir, """
                    cli
                    hlt
                """).kernel().toString();
        assertEquals(ExitStatus.SUCCESS, CliRun.of("boot", "--kernel", kernel).exit());
    }

    @Test
    void faultInKmain_isABootFailure() {
        String kernel = TestKernels.withKmain(dir, """
                    movabs rax, 0x0000400000000000
                    mov rbx, [rax]
                    ret
                """).kernel().toString();
        CliRun run = CliRun.of("boot", "--kernel", kernel);
        assertEquals(ExitStatus.BOOT_FAILED, run.exit(), run.all());
        assertTrue(run.err().contains("kemu: boot failed: triple fault in stage 'kmain'"), run.all());
    }

    @Test
    void unknownOption_isAUsageError() {
        CliRun run = CliRun.of("boot", "--no-such-option");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
    }

    @Test
    void kernelThatIsNotAnElf_isAUsageErrorWithTheReason() throws Exception {
        Path script = Files.writeString(dir.resolve("kernel.sh"), "#!/bin/sh\necho not a kernel\n".repeat(8));
        CliRun run = CliRun.of("boot", "--kernel", script.toString());
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("not an ELF file"), run.all());
    }

    @Test
    void aKemuBug_isAnInternalError() {
        var handler = new ErrorHandler();
        var cli = KemuCli.commandLine();
        cli.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
        assertEquals(ExitStatus.INTERNAL, handler.handleExecutionException(new IllegalStateException("bug"), cli, null));
    }

    @Test
    void statusesOfKemuItself_areEvenSoTheyNeverCollideWithAGuestExit() {
        for (int status : new int[]{ExitStatus.SUCCESS, ExitStatus.USAGE, ExitStatus.BOOT_FAILED, ExitStatus.INTERNAL}) {
            assertEquals(0, status % 2, "status " + status);
        }
    }

    @Test
    void readme_listsEveryExitStatus() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("kemu.home", "."), "README.md"));
        int section = readme.indexOf("### Exit status");
        assertTrue(section >= 0, "README.md has no '### Exit status' section");
        String table = readme.substring(section, readme.indexOf("\n#", section + 5));
        Set<String> listed = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `([^`]+)` \\|").matcher(table);
        while (row.find()) {
            listed.add(row.group(1).replace("\\|", "|"));
        }
        assertEquals(new TreeSet<>(Set.of("0", "2", "4", "70", "value << 1 | 1")), listed, table);
    }
}
