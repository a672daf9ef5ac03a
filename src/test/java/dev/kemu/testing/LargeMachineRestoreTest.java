package dev.kemu.testing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On a 2 GiB machine the boot identity map (1 GiB) does not cover all RAM: stores above it must still be restored. */
class LargeMachineRestoreTest {
    @Test
    void reset_twoGibMachine_restoresStoresAboveTheIdentityMap() {
        try (TestMachine machine = new TestMachine(2L << 30)) {
            machine.reset();
            long before40 = machine.machine().ram().read64(0x4000_0000L);
            long before60 = machine.machine().ram().read64(0x6000_0000L);
            GuestRun run = machine.run("""
                        movabs rax, 0xffff800040000000
                        mov qword ptr [rax], 0x1111
                        movabs rax, 0xffff800060000000
                        mov qword ptr [rax], 0x2222
                    """, Map.of(), 1000);
            assertTrue(run.completed(), run.describe());
            assertEquals(0x1111, machine.machine().ram().read64(0x4000_0000L));
            machine.reset();
            assertEquals(before40, machine.machine().ram().read64(0x4000_0000L), "P0x40000000 after reset");
            assertEquals(before60, machine.machine().ram().read64(0x6000_0000L), "P0x60000000 after reset");
        }
    }
}
