package dev.kemu.byok;

import dev.kemu.boot.limine.LimineKernel;
import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.testing.KemuKernel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JUnit extension on a Limine-protocol kernel: snapshot at kmain, snippets read what the loader answered. */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = "target/test-kernels/limine64.elf", snapshotAt = "kmain")
class LimineKernelExtensionTest {
    @BeforeAll
    static void buildKernel() {
        TestKernelBuild.kernel("limine64.elf");
    }

    @Test
    void snippet_readsTheHhdmResponseThroughTheRequest(Guest guest) {
        // The requests are static in the kernel (as Limine kernels write them), so by address, not by name.
        long request = NmSymbols.of(TestKernelBuild.kernel("limine64.elf")).address("hhdm");
        GuestRun run = guest.run(String.format("""
                mov rbx, 0x%x
                mov rax, [rbx + 40]
                mov rax, [rax + 8]
                """, request));
        assertTrue(run.completed(), run.describe());
        assertEquals(LimineKernel.HHDM_OFFSET, run.rax(), run.describe());
    }

    @Test
    void snippet_seesTheBaseRevisionTagSetToZero(Guest guest) {
        long tag = NmSymbols.of(TestKernelBuild.kernel("limine64.elf")).address("base_revision");
        GuestRun run = guest.run(String.format("mov rbx, 0x%x\nmov rax, [rbx + 16]", tag));
        assertTrue(run.completed(), run.describe());
        assertEquals(0, run.rax(), run.describe());
    }
}
