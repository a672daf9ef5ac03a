package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExceptionStateTest {
    @Test
    void calibration_findsDistinctOffsetsInsideTheContext() {
        ExceptionState state = ExceptionState.get();
        assertTrue(state.oldExceptionOffset() > 0);
        assertTrue(state.errorCodeOffset() > 0);
        assertNotEquals(state.oldExceptionOffset(), state.errorCodeOffset());
        assertTrue(state.oldExceptionOffset() % 4 == 0 && state.errorCodeOffset() % 4 == 0);
    }
}
