package dev.kemu.machine;

import dev.kemu.testing.GuestRun;
import dev.kemu.testing.TestMachine;
import dev.kemu.unicorn.HookType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up probe of which address the write hook reports, against a real booted machine. */
class WriteHookAddressTest {

    @Test
    void probe_agreesWithWhatTheHookReportsForAHigherHalfStoreInABootedMachine() {
        List<Long> seen = new ArrayList<>();
        try (TestMachine machine = new TestMachine()) {
            machine.machine().engine().hookMem(HookType.MEM_WRITE, 1, 0, (uc, type, address, size, value) -> {
                if (size == 8 && value == 0x5a5a) {
                    seen.add(address);
                }
            });
            GuestRun run = machine.run("""
                        movabs rax, 0xffffffff80500000
                        mov qword ptr [rax], 0x5a5a
                    """, Map.of(), 1000);
            assertTrue(run.completed(), run.describe());
        }
        WriteHookAddress observed = seen.equals(List.of(0x500000L)) ? WriteHookAddress.PHYSICAL
                : seen.equals(List.of(0xffffffff80500000L)) ? WriteHookAddress.VIRTUAL : null;
        assertEquals(observed, WriteHookAddress.get(), "the hook saw " + seen);
    }

    @Test
    void classify_theBackingPage_isPhysical_theStorePage_isVirtual() {
        assertEquals(WriteHookAddress.PHYSICAL, WriteHookAddress.classify(List.of(0x6008L)));
        assertEquals(WriteHookAddress.VIRTUAL, WriteHookAddress.classify(List.of(0x5008L)));
    }

    @Test
    void classify_anythingElse_isRefusedWithWhatArrived() {
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> WriteHookAddress.classify(List.of()));
        assertTrue(none.getMessage().contains("one store to V0x5008 (mapped to P0x6008) arrived as []"), none.getMessage());
        IllegalStateException two = assertThrows(IllegalStateException.class,
                () -> WriteHookAddress.classify(List.of(0x6008L, 0x6008L)));
        assertTrue(two.getMessage().contains("[0x6008, 0x6008]"), two.getMessage());
    }
}
