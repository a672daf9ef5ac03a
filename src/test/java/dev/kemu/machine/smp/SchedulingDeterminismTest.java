package dev.kemu.machine.smp;

import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The interleaving of CPUs is a function of the guest and the quantum only: repeated runs agree exactly. */
class SchedulingDeterminismTest {
    /** Each AP appends its APIC ID to a shared log 50 times, claiming slots with lock xadd (a race on hardware). */
    private static final String AP_APPENDS = """
                mov eax, 1
                cpuid
                shr ebx, 24
                mov ecx, 50
            1:  mov eax, 1
                lock xadd [0x8ff8], eax
                mov [0xa000 + rax * 4], ebx
                dec ecx
                jnz 1b
                cli
                hlt
            """;

    private record Outcome(List<Long> instructions, List<Integer> log) {}

    private static Outcome run(int cpus, long quantum) {
        try (SmpGuest guest = new SmpGuest(cpus, quantum)) {
            guest.loadAp(AP_APPENDS);
            guest.loadBsp(SmpGuest.startAps(cpus) + """
                        cli
                        hlt
                    """);
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            List<Integer> log = new ArrayList<>();
            int entries = guest.bsp.ram().read32(SmpGuest.COUNTER);
            for (int i = 0; i < entries; i++) {
                log.add(guest.bsp.ram().read32(0xa000 + 4L * i));
            }
            assertEquals(50 * (cpus - 1), entries, "every append claimed its own slot");
            return new Outcome(result.instructionsPerCpu(), log);
        }
    }

    @Test
    void repeatedRuns_giveTheSameInstructionCountsAndTheSameInterleaving() {
        Outcome first = run(4, 37);
        for (int i = 0; i < 3; i++) {
            assertEquals(first, run(4, 37));
        }
        assertNotEquals(first.log().stream().sorted().toList(), first.log(),
                "with a 37-instruction quantum the APs' appends interleave (so the equality above says something)");
    }
}
