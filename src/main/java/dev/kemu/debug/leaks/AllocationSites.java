package dev.kemu.debug.leaks;

import java.util.Optional;

/**
 * Where an object was allocated (symbolized caller and instruction count), when the allocator recorded it.
 * The {@code --slub-debug=U} store-user mode records sites; until it is on, {@link #NOT_RECORDED} answers.
 */
@FunctionalInterface
public interface AllocationSites {
    String NOT_RECORDED_TEXT = "allocation site not recorded (needs --slub-debug=U)";

    AllocationSites NOT_RECORDED = object -> Optional.empty();

    /** The allocation site of {@code object}, or empty when none was recorded. */
    Optional<String> siteOf(TrackedObject object);
}
