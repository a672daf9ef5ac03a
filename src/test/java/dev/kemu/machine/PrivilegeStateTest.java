package dev.kemu.machine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

class PrivilegeStateTest {
    @Test
    void calibration_findsTheSegmentCachesAndHflags() {
        assertDoesNotThrow(PrivilegeState::get);
    }
}
