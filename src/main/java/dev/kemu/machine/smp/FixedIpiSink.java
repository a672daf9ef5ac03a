package dev.kemu.machine.smp;

/**
 * Where {@link CpuSet} hands a fixed-mode IPI: the target CPU's local APIC, which makes the vector pending
 * in its IRR. The local APIC is not part of this package; whoever builds the APICs connects them here.
 */
@FunctionalInterface
public interface FixedIpiSink {
    void deliver(int targetApicId, int sourceApicId, int vector);

    /** Drops every fixed IPI, as a machine with no local APIC model can only do (said in the log). */
    FixedIpiSink NONE = (target, source, vector) -> { };
}
