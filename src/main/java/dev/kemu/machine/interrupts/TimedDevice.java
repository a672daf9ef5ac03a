package dev.kemu.machine.interrupts;

/** A device with something to do at a virtual time: a timer that expires, a counter that wraps. */
public interface TimedDevice {
    long NEVER = Long.MAX_VALUE;

    /** The virtual time (ns, {@link VirtualClock}) of this device's next event, or {@link #NEVER}. */
    long deadline();

    /** Virtual time reached {@code now}: fire every event due by then. */
    void advanceTo(long now);
}
