package dev.kemu.machine.interrupts;

/**
 * Where a local APIC's interrupt command register sends an inter-processor interrupt, after the
 * APIC has resolved the destination (physical, logical or shorthand) to one target APIC ID.
 * One machine with one CPU routes a fixed IPI to itself and drops the rest, as a PC with no
 * such CPU does; a machine with several CPUs routes them to the other engines.
 */
public interface IpiRouter {
    /** A fixed-mode IPI: {@code vector} becomes pending in the target's IRR. */
    void fixed(int sourceApicId, int targetApicId, int vector);

    /** An INIT IPI: the target resets and waits for a STARTUP IPI. */
    void init(int sourceApicId, int targetApicId);

    /** A STARTUP IPI: a CPU waiting after INIT starts in real mode at {@code vector << 12}. */
    void startup(int sourceApicId, int targetApicId, int vector);

    /** The APIC IDs of every CPU, the sender's included, for the all and all-but-self shorthands. */
    int[] apicIds();
}
