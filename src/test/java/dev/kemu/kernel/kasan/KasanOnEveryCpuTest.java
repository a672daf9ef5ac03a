package dev.kemu.kernel.kasan;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: with --cpus N each CPU is its own Unicorn engine, so --kasan hooks the slabs in every engine and a
 * report names the CPU that made the access and that CPU's instruction.
 */
class KasanOnEveryCpuTest {
    private static final Pattern KMALLOC_LINE = Pattern.compile("mm: kmalloc\\(24\\) 0x([0-9a-f]{16})");

    @Test
    void cpu1ReadingAnObjectKmainFreed_isASlabUseAfterFreeOnCpu1_atCpu1sInstruction() {
        try (KernelBoot boot = new KernelBoot(TestKernels.defaultKernel(), BootOptions.defaults().withCpus(2))) {
            boot.services().kasan(true);
            BootReport report = boot.run();
            assertTrue(report.console().contains("kmain: done, halting"), report.console());
            assertEquals(List.of(), boot.services().kasanReports(), "the boot itself is clean on both CPUs");
            Matcher m = KMALLOC_LINE.matcher(report.console());
            assertTrue(m.find(), report.console());
            long freed = Long.parseUnsignedLong(m.group(1), 16); // mm_demo's "kfree both" freed it

            // cpu1 halted in the higher half on the kernel's page tables: give it one load of that object, put where
            // kmain's code was (cpu1 never ran kmain, so it has no translation of those bytes).
            long code = boot.symbols().address("kmain");
            ByteBuffer load = ByteBuffer.allocate(11).order(ByteOrder.LITTLE_ENDIAN);
            load.put((byte) 0x48).put((byte) 0xa1).putLong(freed + 8).put((byte) 0xf4); // mov rax, [freed + 8]; hlt
            boot.machine().ram().write(code - GuestAbi.KERNEL_VMA, load.array());
            Machine cpu1 = boot.cpus().machine(1);
            cpu1.run(code, RunLimits.budget(2));

            List<KasanReport> reports = boot.services().kasanReports();
            assertEquals(1, reports.size(), reports.toString());
            KasanReport uaf = reports.getFirst();
            assertEquals("slab-use-after-free", uaf.kind());
            assertEquals(1, uaf.cpu());
            assertEquals(code, uaf.rip(), "cpu1's instruction, not cpu0's");
            assertEquals(freed + 8, uaf.address());
            assertEquals(8, uaf.offset());
            assertTrue(uaf.text().contains("Read of size 8 at addr " + Long.toHexString(freed + 8)
                    + " by task kernel/0 (cpu 1; kemu has no tasks)"), uaf.text());
            assertTrue(uaf.text().contains("BUG: KASAN: slab-use-after-free in kmain\n"), uaf.text());
        }
    }
}
