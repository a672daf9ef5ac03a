package dev.kemu.byok;

import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.testing.KemuKernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JUnit extension on a two-CPU machine whose loader starts the APs before the kernel runs (Limine's SMP
 * request): the snapshot run takes every CPU's turns until cpu0 reaches kmain, so it arrives with the AP parked.
 */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = "target/test-kernels/liminesmp64.elf", snapshotAt = "kmain", cpus = 2)
class LimineSmpExtensionTest {
    @BeforeAll
    static void buildKernel() {
        TestKernelBuild.kernel("liminesmp64.elf");
    }

    @Test
    void atKmain_theSmpResponseListsBothCpus(Guest guest) {
        long request = NmSymbols.of(TestKernelBuild.kernel("liminesmp64.elf")).address("smp");
        GuestRun run = guest.run(String.format("""
                mov rbx, 0x%x
                mov rax, [rbx + 40]
                mov rax, [rax + 16]
                """, request));
        assertTrue(run.completed(), run.describe());
        assertEquals(2, run.rax(), "cpu_count in the response: " + run.describe());
    }
}
