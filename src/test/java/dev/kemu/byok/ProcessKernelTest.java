package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.MultibootModule;
import dev.kemu.debug.FaultReport;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code process64} (docs/processes.md): user programs in ring 3 on kemu's address spaces. The fork
 * program's parent and child both write the same variable and print different values (copy-on-write),
 * the parent grows its heap with brk; the NULL program's ring-3 read of address 0 is reported by kemu
 * with the user bit, CPL 3 and its space, and the kernel's #PF handler kills it while the others go on.
 * The kernel needs kemu's hypercalls: under QEMU it says so and stops.
 */
class ProcessKernelTest {
    private static final String SPACE = "(0x\\p{XDigit}+)";
    /** Exit code: 0x10 * processes that exited + processes killed (fork's parent and child exit, null is killed). */
    private static final int EXIT_CODE = 0x21;
    private static final long BYTE_SUM = 32L * (255 * 256 / 2); // 8192 bytes of (i & 0xff)

    /**
     * Syscalls that return, each through sysretq: the parent's getpid, 3 writes, fork, yield, 5 writes, 2 brk,
     * 5 writes; the child's fork return, yield, getpid, 5 writes; null's one write. Only the first entries of
     * pid 1 and pid 2 go through iretq (pid 3 starts from its fork's syscall frame).
     */
    private static final int SYSCALLS_RETURNING = (1 + 3 + 1 + 1 + 5 + 2 + 5) + (1 + 1 + 1 + 5) + 1;

    @TempDir
    Path dir;

    private static KernelBoot boot(List<MultibootModule> modules) {
        return new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                TestKernelBuild.kernel("process64.elf")), BootOptions.defaults().withModules(modules));
    }

    private static List<MultibootModule> forkAndNull() {
        return List.of(new MultibootModule(TestKernelBuild.kernel("user-fork.elf"), "fork"),
                new MultibootModule(TestKernelBuild.kernel("user-null.elf"), "null"));
    }

    @Test
    void forkedProcesses_writeTheSameVariable_andEachSeesItsOwnValue_whileTheNullDereferenceIsKilled() {
        try (KernelBoot boot = boot(forkAndNull())) {
            BootReport report = boot.run();
            String expected = Pattern.quote("process64: in long mode\n") + "process64: syscall entry at 0x\\p{XDigit}+, "
                    + "free frames \\d+\n"
                    + "process64: pid 1 runs fork, entry 0x400000, space " + SPACE + "\n"
                    + "process64: pid 2 runs null, entry 0x400000, space " + SPACE + "\n"
                    + Pattern.quote("fork: hello from ring 3, pid 1\n")
                    + "process64: pid 1 forked pid 3, space " + SPACE + " shares its pages copy-on-write\n"
                    + Pattern.quote("null: reading through a NULL pointer\n")
                    + "process64: pid 2: exception 14 at rip (0x\\p{XDigit}+), cr2 0x0, error code 0x4 in ring 3\n"
                    + Pattern.quote("process64: pid 2 killed, status 139\n"
                    + "fork: parent of pid 3 sees shared = 3\n"
                    + "fork: brk grew the heap at 0x403000 by 8192 bytes, byte sum " + BYTE_SUM + "\n"
                    + "process64: pid 1 exited with status 0\n"
                    + "fork: child pid 3 sees shared = 2\n"
                    + "process64: pid 3 exited with status 2\n"
                    + "process64: no process left: 2 exited, 1 killed; free frames ") + "\\d+\n"
                    + Pattern.quote("process64: returns to ring 3: " + SYSCALLS_RETURNING + " by sysretq, 2 by iretq\n");
            Matcher console = Pattern.compile(expected).matcher(report.console());
            assertTrue(console.matches(), () -> "expected\n" + expected + "\ngot\n" + report.console()
                    + report.run().detail());
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail());
            assertEquals(EXIT_CODE, report.run().exitCode());
            assertEquals(report.console(), report.serial().replace("\r\n", "\n"), "COM1 carries the same lines");
            assertEquals(3, List.of(console.group(1), console.group(2), console.group(3)).stream().distinct().count(),
                    "three spaces: " + console.group(0));

            long nullRip = Long.parseUnsignedLong(console.group(4).substring(2), 16);
            assertTrue(NmSymbols.of(TestKernelBuild.kernel("user-null.elf")).inside("main", nullRip),
                    "the #PF is the load in null's main: " + console.group(4));
            assertNullDereferenceReport(report, console.group(2), console.group(4));

            assertEquals("9 zero-filled, 2 copy-on-write copy, 2 copy-on-write take-over",
                    boot.faults().resolvedFaults().summary(), "the data page copied on both writes after fork");
            KernelMemory memory = boot.services().memory().orElseThrow();
            assertEquals(List.of(), memory.spaces().all(), "every process's space destroyed at its end");
            assertEquals(List.of(), memory.check(), "no frame leaked, kernel half untouched");
        }
    }

    /** The one fault kemu reports: a ring-3 read of V0x0 in the NULL program's space, delivered to the kernel. */
    private static void assertNullDereferenceReport(BootReport report, String nullSpace, String rip) {
        assertEquals(1, report.faults().size(), () -> report.faults().toString());
        FaultReport fault = report.faults().getFirst();
        assertEquals(14, fault.vector());
        assertEquals("0x0", fault.address());
        assertEquals("read", fault.access());
        assertEquals("user", fault.mode());
        assertEquals(0x4, fault.errorCode(), "U/S set: the access came from ring 3");
        assertTrue(fault.errorBits().contains("user"), fault.errorBits().toString());
        assertEquals(rip, fault.rip());
        assertEquals(3, Long.decode(fault.registers().get("cs")) & 3, "CPL 3: " + fault.registers());
        assertEquals("space 2 of 3, PML4 P" + nullSpace, fault.space().name(), "the NULL program's space, pid 2's");
        assertEquals("P" + nullSpace, fault.space().pml4());
        assertTrue(fault.text().contains("kemu's fault handler found the address is in no VMA of the space"), fault.text());
        assertTrue(fault.outcome().contains("delivered to the guest's #PF handler"), fault.outcome());
    }

    @Test
    void aModuleThatIsNotAnElfExecutable_isSkippedWithAMessage_andTheOthersRun() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.txt"), "not an ELF file\n");
        try (KernelBoot boot = boot(List.of(new MultibootModule(text, "notes"),
                new MultibootModule(TestKernelBuild.kernel("user-null.elf"), "null")))) {
            BootReport report = boot.run();
            assertTrue(report.console().contains("process64: module notes is not a static x86-64 ELF64 executable, "
                    + "skipped\nprocess64: pid 1 runs null, entry 0x400000"), report.console());
            assertTrue(report.console().endsWith("process64: pid 1 killed, status 139\n"
                    + "process64: no process left: 0 exited, 1 killed; free frames " + freeFrames(report) + "\n"
                    + "process64: returns to ring 3: 1 by sysretq, 1 by iretq\n"),
                    report.console());
            assertEquals(0x01, report.run().exitCode());
        }
    }

    /** A system call reading a user buffer in no VMA faults in ring 0; the kernel kills the caller, not itself. */
    @Test
    void aWriteFromABufferInNoVma_faultsInTheKernel_whichKillsTheCallerAndGoesOn() {
        try (KernelBoot boot = boot(List.of(new MultibootModule(TestKernelBuild.kernel("user-badbuf.elf"), "badbuf"),
                new MultibootModule(TestKernelBuild.kernel("user-null.elf"), "null")))) {
            BootReport report = boot.run();
            assertTrue(report.console().contains("badbuf: writing from an unmapped buffer\n"
                    + "process64: pid 1: system call 1 faulted on user address 0x10000000\n"
                    + "process64: pid 1 killed, status 139\n"
                    + "null: reading through a NULL pointer\n"), report.console());
            assertTrue(!report.console().contains("the write returned"), report.console());
            assertEquals(0x02, report.run().exitCode(), report.console());

            FaultReport kernelFault = report.faults().getFirst();
            assertEquals("0x10000000", kernelFault.address());
            assertEquals("supervisor", kernelFault.mode(), "the kernel's read of the buffer, in ring 0");
            assertEquals(0, Long.decode(kernelFault.registers().get("cs")) & 3);
            assertTrue(kernelFault.space().name().startsWith("space 1 of 2, "), kernelFault.space().name());
            assertEquals(List.of(), boot.services().memory().orElseThrow().spaces().all());
        }
    }

    private static String freeFrames(BootReport report) {
        Matcher m = Pattern.compile("killed; free frames (\\d+)\n").matcher(report.console());
        return m.find() ? m.group(1) : "(none printed)";
    }

    /** QEMU answers no hypercall: HC_PROBE leaves RAX at 0, and the kernel refuses to go on, saying why. */
    @Test
    void underQemu_theKernelSaysItNeedsKemusHypercalls() {
        QemuRunner.assumeInstalled();
        GuestOutput run = QemuRunner.boot(TestKernelBuild.kernel("process64.elf32"), dir);
        assertEquals("process64: in long mode\nprocess64: panic: no kemu hypercalls (HC_PROBE): this kernel runs on "
                + "kemu's address spaces\n", run.debugConsole(), run::describe);
        assertEquals(0x7f << 1 | 1, run.exitStatus(), run::describe);
    }
}
