package dev.kemu.machine.interrupts;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A host-time deadline as a System.nanoTime value: near deadlines land where they should, far ones never wrap. */
class HostClockDeadlineTest {
    @Test
    void aDeadlineMapsToTheHostTimeItFallsAt_andAFarOneSaturates() {
        long before = System.nanoTime();
        VirtualClock clock = new VirtualClock(ClockMode.HOST);
        long after = System.nanoTime();
        long millisecond = clock.hostNanoTime(1_000_000);
        assertTrue(millisecond >= before + 1_000_000 && millisecond <= after + 1_000_000, "1 ms after the clock began");
        assertEquals(Long.MAX_VALUE, clock.hostNanoTime(Long.MAX_VALUE));
        assertEquals(Long.MAX_VALUE, clock.hostNanoTime(Long.MAX_VALUE - 1), "centuries away: never, not the past");
        assertTrue(clock.hostNanoTime(Long.MAX_VALUE / 2) > after, "far but representable: still in the future");
    }
}
