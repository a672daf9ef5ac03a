package dev.kemu.unicorn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** uc_emu_start's own error as a code from startOrError, and as the same exception from start. */
class StartOrErrorTest {
    @Test
    void anUnmappedFetchComesBackAsItsCodeAndStartThrowsTheSameError() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            int err = uc.startOrError(0x1000, 0x2000, 0, 0);
            assertEquals(UcError.FETCH_UNMAPPED, UcError.of(err));

            UnicornException thrown = assertThrows(UnicornException.class, () -> uc.start(0x1000, 0x2000, 0, 0));
            UnicornException built = uc.startFailure(err, 0x1000, 0x2000, 0, 0);
            assertEquals(UcError.FETCH_UNMAPPED, thrown.error());
            assertEquals(thrown.getMessage(), built.getMessage());
        }
    }

    @Test
    void aRunThatEndsNormallyReturnsZero() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.memMap(0x1000, 0x1000, Prot.ALL);
            uc.memWrite(0x1000, new byte[]{(byte) 0x90, (byte) 0x90});
            assertEquals(0, uc.startOrError(0x1000, 0x1002, 0, 0));
        }
    }
}
