package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import dev.kemu.testutil.QemuRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code srat32.elf}: a kernel that reads the ACPI SRAT as Linux does and prints its enabled entries. kemu's
 * {@code --ram 256 --numa 2} prints what QEMU's {@code -m 256} with two 128 MiB {@code -numa node}s does: with
 * {@code cpus=0} and {@code cpus=1} for two CPUs, and with QEMU's default placement for four CPUs when each is
 * its own socket ({@code -smp 4,sockets=4}: sockets go to nodes round-robin, as kemu places CPUs).
 */
class SratKernelTest {
    private static final String TWO_NODES_MEMORY = """
            srat32: memory node 0 base 0x0 length 0xa0000 flags 0x1
            srat32: memory node 0 base 0x100000 length 0x7f00000 flags 0x1
            srat32: memory node 1 base 0x8000000 length 0x8000000 flags 0x1
            """;
    private static final String[] QEMU_TWO_NODES = {"-m", "256M", "-object", "memory-backend-ram,id=m0,size=128M",
            "-object", "memory-backend-ram,id=m1,size=128M"};

    @TempDir
    Path dir;

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    @Test
    void underKemu_twoNodes_listTheCpusRoundRobin_andRamInHalves() {
        GuestOutput kemu = KemuCommand.boot(TestKernelBuild.kernel("srat32.elf"), dir, null, "--ram", "256", "--cpus", "4",
                "--numa", "2");
        assertEquals("""
                srat32: SRAT checksum ok, revision 1
                srat32: cpu apic 0 node 0
                srat32: cpu apic 1 node 1
                srat32: cpu apic 2 node 0
                srat32: cpu apic 3 node 1
                """ + TWO_NODES_MEMORY, kemu.debugConsole(), kemu::describe);
        assertEquals(1, kemu.exitStatus(), kemu::describe);
    }

    @Test
    void underKemu_oneNode_hasNoSrat() {
        GuestOutput kemu = KemuCommand.boot(TestKernelBuild.kernel("srat32.elf"), dir, null);
        assertEquals("srat32: no SRAT: one NUMA node\n", kemu.debugConsole(), kemu::describe);
    }

    @Test
    void underKemuAndQemu_twoCpusInTwoNodes_theSameSrat() {
        QemuRunner.assumeInstalled();
        Path kernel = TestKernelBuild.kernel("srat32.elf");
        GuestOutput qemu = QemuRunner.boot(kernel, dir, null, concat(QEMU_TWO_NODES, "-smp", "2",
                "-numa", "node,memdev=m0,cpus=0", "-numa", "node,memdev=m1,cpus=1"));
        assertEquals("""
                srat32: SRAT checksum ok, revision 1
                srat32: cpu apic 0 node 0
                srat32: cpu apic 1 node 1
                """ + TWO_NODES_MEMORY, qemu.debugConsole(), qemu::describe);
        SameAsQemu.assertSameOutputAndStatus(qemu, KemuCommand.boot(kernel, dir, null, "--ram", "256", "--cpus", "2",
                "--numa", "2"));
    }

    @Test
    void underKemuAndQemu_fourSocketsInTwoNodes_theSameSrat() {
        QemuRunner.assumeInstalled();
        Path kernel = TestKernelBuild.kernel("srat32.elf");
        GuestOutput qemu = QemuRunner.boot(kernel, dir, null, concat(QEMU_TWO_NODES, "-smp", "4,sockets=4",
                "-numa", "node,memdev=m0", "-numa", "node,memdev=m1"));
        SameAsQemu.assertSameOutputAndStatus(qemu, KemuCommand.boot(kernel, dir, null, "--ram", "256", "--cpus", "4",
                "--numa", "2"));
    }
}
