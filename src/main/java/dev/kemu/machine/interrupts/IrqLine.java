package dev.kemu.machine.interrupts;

/** An interrupt request input (a PIC or IOAPIC pin) that a device drives high or low. */
@FunctionalInterface
public interface IrqLine {
    void set(boolean high);

    /** An edge: high, then low at once (a timer's output pulse). */
    default void pulse() {
        set(true);
        set(false);
    }
}
