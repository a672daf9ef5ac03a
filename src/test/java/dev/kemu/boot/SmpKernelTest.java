package dev.kemu.boot;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kemu's kernel in seed 003's shape (kernel-asm/smp.S, apic.S, acpi.S): it finds its CPUs in the ACPI MADT,
 * starts each AP with INIT-SIPI-SIPI into long mode on the BSP's CR3, the APs add to a shared counter with
 * lock xadd, and the BSP counts local APIC timer interrupts. The same image prints the same lines under
 * {@code qemu-system-x86_64 -smp N} (that half skips where QEMU is missing).
 */
class SmpKernelTest {
    private static final String SERVICES = "kmain: kemu services ";

    @TempDir
    Path dir;

    private static BootReport boot(int cpus) {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(cpus))) {
            return boot.run();
        }
    }

    /** The platform lines: what the kernel printed before it looked for kemu's services. */
    private static String platformLines(String console) {
        int end = console.indexOf(SERVICES);
        assertTrue(end > 0, "the kernel reached the services probe: " + console);
        return console.substring(0, end);
    }

    @ParameterizedTest(name = "--cpus {0}")
    @ValueSource(ints = {1, 2, 4})
    void everyAp_comesUpInLongMode_addsToTheCounter_andTheBspTakesTenTimerInterrupts(int cpus) {
        BootReport report = boot(cpus);
        String console = report.console();
        StringBuilder aps = new StringBuilder();
        IntStream.range(1, cpus).forEach(id -> aps.append("kmain: AP with APIC ID ").append(id)
                .append(" in long mode on the BSP's page tables\n"));
        assertTrue(console.contains("kmain: CPUs in the ACPI MADT: " + cpus + "\n" + aps
                + "kmain: shared counter after the APs: " + (cpus - 1) + "\n"
                + "kmain: 10 local APIC timer interrupts\n"), console);
        assertEquals(0, report.run().exitCode(), "kmain's demo succeeded: " + report.run().detail());
    }

    @ParameterizedTest(name = "-smp {0}")
    @ValueSource(ints = {1, 2, 4})
    void theSameImageUnderQemu_printsTheSamePlatformLines(int cpus) throws Exception {
        QemuRunner.assumeInstalled();
        Path elf32 = dir.resolve("kernel32.elf");
        KernelSources.BuiltImages images = TestKernels.defaultKernel();
        assertEquals(0, new ProcessBuilder("objcopy", "-O", "elf32-i386", images.kernel().toString(), elf32.toString())
                .inheritIO().start().waitFor());
        GuestOutput qemu = QemuRunner.boot(elf32, dir, null, "-smp", String.valueOf(cpus));
        assertEquals(platformLines(qemu.debugConsole()), platformLines(boot(cpus).console()), qemu.describe());
    }

    @ParameterizedTest(name = "--cpus {0}")
    @ValueSource(ints = {1, 2})
    void theBsp_takesExactlyTheTimerInterruptsItWaitsFor_noneTwice(int cpus) {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(cpus))) {
            assertTrue(boot.run().console().contains("kmain: 10 local APIC timer interrupts\n"));
            long taken = boot.machine().ram().read64(boot.machine().physical(boot.symbols().address("apic_interrupts")));
            assertEquals(10, taken, "the ISR's own count: the line is capped for QEMU, this one is not");
        }
    }

    @Test
    void theTimeout_endsARunOfSeveralCpus() {
        BootOptions options = BootOptions.defaults().withCpus(2).withTimeout(java.time.Duration.ofNanos(1000));
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), options)) {
            BootReport report = boot.run();
            assertEquals(dev.kemu.machine.StopReason.TIMEOUT, report.run().reason(), report.run().detail());
        }
    }

    @Test
    void twoCpusWithInterrupts_runTheSameWayEveryTime() {
        BootReport first = boot(2);
        for (int run = 0; run < 3; run++) {
            BootReport again = boot(2);
            assertEquals(first.console(), again.console());
            assertEquals(first.run().instructions(), again.run().instructions(), "instructions over all CPUs");
        }
        assertTrue(first.run().instructions() > 0, "the run was counted: " + first.run());
    }
}
