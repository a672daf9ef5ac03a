package dev.kemu.machine;

/**
 * Attached (as a suppressed exception) to an exception a hook threw out of {@link Machine#run},
 * so that whoever catches it also learns where the guest was: the exception itself stays what
 * the hook threw, with its own cause.
 */
public final class GuestPosition extends RuntimeException {
    GuestPosition(long rip, long instructions) {
        super(String.format("the guest was at RIP 0x%x when host code in a hook failed%s", rip,
                instructions >= 0 ? " (instructions counted in this run: " + instructions + ")" : ""), null, false, false);
    }
}
