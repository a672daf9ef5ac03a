package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kemu's own wall-clock alarm: it ends an uncounted guest loop at the limit, and says only whether it stopped the engine. */
class HostAlarmTest {
    private static final byte[] SPIN = {(byte) 0xEB, (byte) 0xFE}; // 1: jmp 1b

    @Test
    void uncountedGuestLoop_endsAtTheWallClockLimit_asTimeout() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, SPIN);
            long started = System.nanoTime();
            RunResult result = machine.run(0x1000, new RunLimits(0, Duration.ofMillis(200)));
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(StopReason.TIMEOUT, result.reason(), result.detail());
            assertTrue(millis >= 200 && millis < 10_000, "ended after " + millis + " ms");
            assertEquals(0x1000, result.cpu().rip(), "stopped at the loop's instruction boundary");
        }
    }

    @Test
    void countedGuestLoop_endsAtTheWallClockLimit_andTheNextRunIsNotStoppedByAStaleRing() {
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(0x1000, SPIN);
            RunResult first = machine.run(0x1000, new RunLimits(1L << 40, Duration.ofMillis(100)));
            assertEquals(StopReason.TIMEOUT, first.reason(), first.detail());
            RunResult second = machine.run(0x1000, new RunLimits(1000, Duration.ofSeconds(30)));
            assertEquals(StopReason.BUDGET_EXHAUSTED, second.reason(), second.detail());
            assertEquals(1000, second.instructions());
        }
    }

    @Test
    void disarm_saysItRangOnlyIfTheRingCameBeforeTheEngineReturned() throws Exception {
        try (Machine machine = new Machine(1 << 20)) {
            HostAlarm alarm = new HostAlarm(machine.engine());
            try {
                long beforeArming = System.nanoTime();
                alarm.arm(beforeArming); // due at once: rings with no run under way (a harmless stop)
                awaitRing(alarm);
                assertFalse(alarm.disarm(beforeArming), "a ring after the engine returned stopped nothing");
                alarm.arm(System.nanoTime());
                awaitRing(alarm);
                assertTrue(alarm.disarm(System.nanoTime()), "rang before the engine returned");
                alarm.arm(Long.MAX_VALUE);
                assertFalse(alarm.disarm(System.nanoTime()), "armed with no deadline: never rings");
            } finally {
                alarm.close(); // before the engine is freed, whatever failed
            }
        }
    }

    @Test
    void anEarlierDeadline_ringsFirst_thoughTheAlarmThreadSleepsUntilALaterOne() throws Exception {
        try (Machine late = new Machine(1 << 20); Machine early = new Machine(1 << 20)) {
            HostAlarm lateAlarm = new HostAlarm(late.engine()), earlyAlarm = new HostAlarm(early.engine());
            try {
                long now = System.nanoTime();
                lateAlarm.arm(now + Duration.ofSeconds(60).toNanos());
                earlyAlarm.arm(now + Duration.ofMillis(5).toNanos());
                earlyAlarm.arm(now + Duration.ofMillis(10).toNanos()); // armed again: one alarm, the new deadline
                awaitRing(earlyAlarm);
                assertFalse(lateAlarm.hasRung(), "the other machine's alarm is a minute away");
                assertTrue(earlyAlarm.disarm(System.nanoTime()));
                assertFalse(lateAlarm.disarm(System.nanoTime()));
            } finally {
                lateAlarm.close();
                earlyAlarm.close();
            }
        }
    }

    @Test
    void aClosedAlarm_isDisarmed_andRefusesToBeArmed() {
        try (Machine machine = new Machine(1 << 20)) {
            HostAlarm alarm = new HostAlarm(machine.engine());
            alarm.arm(System.nanoTime() + Duration.ofSeconds(60).toNanos());
            alarm.close();
            assertFalse(alarm.disarm(System.nanoTime()));
            assertThrows(IllegalStateException.class, () -> alarm.arm(System.nanoTime()));
            assertFalse(alarm.hasRung(), "closed before its deadline: it never rang");
        }
    }

    private static void awaitRing(HostAlarm alarm) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!alarm.hasRung() && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        assertTrue(alarm.hasRung(), "the alarm rang within 10 s of its deadline");
    }
}
