package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The offset search of the calibrations on hand-made contexts: one answer or a refusal, never a guess. */
class ContextFieldSearchTest {
    /** A 64-byte context holding {@code value} at each of {@code offsets}, zero elsewhere. */
    private static byte[] context(int value, int... offsets) {
        ByteBuffer bytes = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        for (int offset : offsets) {
            bytes.putInt(offset, value);
        }
        return bytes.array();
    }

    private static ContextFieldSearch.Observation holds(int value, int... offsets) {
        return new ContextFieldSearch.Observation(context(value, offsets), value);
    }

    @Test
    void oneMatchingOffset_isTheAnswer_andNoFurtherRoundRuns() {
        AtomicInteger secondRounds = new AtomicInteger();
        long offset = ContextFieldSearch.unique("field", List.of(
                () -> List.of(holds(-1, 8, 20), holds(14, 20, 40)),
                () -> {
                    secondRounds.incrementAndGet();
                    return List.of();
                }));
        assertEquals(20, offset);
        assertEquals(0, secondRounds.get());
    }

    @Test
    void twoMatchingOffsets_areSettledByTheNextRoundWithOtherValues() {
        Supplier<List<ContextFieldSearch.Observation>> ambiguous = () -> List.of(holds(-1, 12, 28), holds(14, 12, 28));
        Supplier<List<ContextFieldSearch.Observation>> settles = () -> List.of(holds(-1, 12, 28), holds(13, 28));
        assertEquals(28, ContextFieldSearch.unique("old_exception", List.of(ambiguous, settles)));
    }

    @Test
    void offsetsStillAmbiguousAfterTheLastRound_areRefusedWithTheCandidates() {
        Supplier<List<ContextFieldSearch.Observation>> ambiguous = () -> List.of(holds(-1, 12, 28), holds(14, 12, 28));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ContextFieldSearch.unique("old_exception", List.of(ambiguous, ambiguous)));
        assertEquals("cannot calibrate old_exception in this libunicorn: offsets [0xc, 0x1c] all hold (-1, 0xe), "
                + "then (-1, 0xe); refusing to guess, since patching the wrong field corrupts the CPU state",
                e.getMessage());
    }

    @Test
    void noMatchingOffset_isRefusedWithTheValuesSought() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ContextFieldSearch.unique(
                "the page-fault error code", List.of(() -> List.of(holds(2, 4), holds(3, 8)))));
        assertEquals("cannot calibrate the page-fault error code in this libunicorn: no 4-byte field of the saved CPU "
                + "context holds (0x2, 0x3); kemu needs Unicorn >= 2.1 (2.1.4 preferred)", e.getMessage());
    }

    @Test
    void aLaterRoundCanOnlyNarrow_neverAddCandidates() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ContextFieldSearch.unique("field",
                List.of(() -> List.of(holds(5, 4, 8)), () -> List.of(holds(5, 16)))));
        assertEquals(true, e.getMessage().startsWith("cannot calibrate field in this libunicorn: no 4-byte field"),
                e.getMessage());
    }
}
