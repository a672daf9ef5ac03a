package dev.kemu.machine;

/** What delivering an exception through the guest's IDT came to ({@link ExceptionDelivery}). */
public sealed interface DeliveryResult {
    /** Why delivery did not happen, in words; empty once delivered. */
    String problem();

    /** The guest's handler runs now: RIP, RSP, RFLAGS (and CS, SS on a privilege change) are set. */
    record Delivered(IdtGate gate) implements DeliveryResult {
        @Override
        public String problem() {
            return "";
        }
    }

    /**
     * The CPU raised another exception while delivering (a missing gate, an unwritable stack,
     * a TSS too small): its vector, error code and, for a #PF, CR2, as the CPU would raise it.
     */
    record Faulted(int vector, int errorCode, long cr2, String problem) implements DeliveryResult {}

    /** Something kemu does not emulate (a task gate, a 16-bit gate, ...): the guest stops with the reason. */
    record Unsupported(String problem) implements DeliveryResult {}
}
