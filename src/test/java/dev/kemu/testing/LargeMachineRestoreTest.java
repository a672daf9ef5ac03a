package dev.kemu.testing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With more than 1 GiB of RAM the boot identity map does not cover all of it: stores above it
 * must still be restored (issue 11's repro used 2 GiB and P0x40000000 / P0x60000000; 1 GiB + 64 MiB
 * shows the same at a quarter of the boot time).
 */
class LargeMachineRestoreTest {
    @Test
    void reset_machineLargerThanTheIdentityMap_restoresStoresAboveIt() {
        try (TestMachine machine = new TestMachine((1L << 30) + (64L << 20))) {
            machine.reset();
            long before40 = machine.machine().ram().read64(0x4000_0000L);
            long beforeTop = machine.machine().ram().read64(0x43ff_0000L);
            GuestRun run = machine.run("""
                        movabs rax, 0xffff800040000000
                        mov qword ptr [rax], 0x1111
                        movabs rax, 0xffff800043ff0000
                        mov qword ptr [rax], 0x2222
                    """, Map.of(), 1000);
            assertTrue(run.completed(), run.describe());
            assertEquals(0x1111, machine.machine().ram().read64(0x4000_0000L));
            machine.reset();
            assertEquals(before40, machine.machine().ram().read64(0x4000_0000L), "P0x40000000 after reset");
            assertEquals(beforeTop, machine.machine().ram().read64(0x43ff_0000L), "P0x43ff0000 after reset");
        }
    }
}
