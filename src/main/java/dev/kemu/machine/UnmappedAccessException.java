package dev.kemu.machine;

import dev.kemu.unicorn.UnicornException;

/**
 * Unicorn's {@code UC_ERR_*_UNMAPPED} from {@code uc_emu_start}, restated with the access that
 * caused it: {@link #error()} is still the native code, the bare exception (with kemu's own
 * {@code uc_emu_start} arguments) is the cause, and the message says what the guest touched.
 */
public final class UnmappedAccessException extends UnicornException {
    private final transient UnmappedAccess access;

    UnmappedAccessException(UnmappedAccess access, UnicornException bare) {
        super(access.describe(), bare);
        this.access = access;
    }

    public UnmappedAccess access() {
        return access;
    }
}
