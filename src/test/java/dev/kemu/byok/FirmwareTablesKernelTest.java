package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code fwcfg32.elf}: a kernel that finds its CPUs as a kernel written against QEMU does, through fw_cfg and
 * the ACPI MADT, and prints what it found. kemu with {@code --cpus N} prints what QEMU with {@code -smp N} does.
 */
class FirmwareTablesKernelTest {
    @TempDir
    Path dir;

    private static String expected(int cpus) {
        return """
                fwcfg32: signature QEMU, traditional interface 1
                fwcfg32: fw_cfg CPUs %d, RAM 64 MiB
                fwcfg32: RSDT checksum ok
                fwcfg32: MADT checksum ok, local APIC at 0xfee00000
                fwcfg32: IOAPIC id 0 at 0xfec00000 gsi base 0
                fwcfg32: override irq 0 -> gsi 2 flags 0x0
                fwcfg32: override irq 5 -> gsi 5 flags 0xd
                fwcfg32: override irq 9 -> gsi 9 flags 0xd
                fwcfg32: override irq 10 -> gsi 10 flags 0xd
                fwcfg32: override irq 11 -> gsi 11 flags 0xd
                fwcfg32: MADT lists %d enabled local APICs
                """.formatted(cpus, cpus);
    }

    @ParameterizedTest(name = "--cpus {0}")
    @ValueSource(ints = {1, 2, 4})
    void underKemu_fwCfgAndTheMadtCountTheCpusGiven(int cpus) {
        GuestOutput kemu = KemuCommand.boot(TestKernelBuild.kernel("fwcfg32.elf"), dir, null, "--cpus", String.valueOf(cpus));
        assertEquals(expected(cpus), kemu.debugConsole(), kemu::describe);
        assertEquals(1, kemu.exitStatus(), kemu::describe);
    }

    @ParameterizedTest(name = "-smp {0}")
    @ValueSource(ints = {1, 2, 4})
    void underKemuAndQemu_theSameLines(int cpus) {
        QemuRunner.assumeInstalled();
        Path kernel = TestKernelBuild.kernel("fwcfg32.elf");
        GuestOutput qemu = QemuRunner.boot(kernel, dir, null, "-smp", String.valueOf(cpus));
        assertEquals(expected(cpus), qemu.debugConsole(), qemu::describe);
        SameAsQemu.assertSameOutputAndStatus(qemu,
                KemuCommand.boot(kernel, dir, null, "--cpus", String.valueOf(cpus)));
    }
}
