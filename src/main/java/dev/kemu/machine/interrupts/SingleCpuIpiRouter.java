package dev.kemu.machine.interrupts;

import java.util.function.IntConsumer;

/**
 * The router of a machine with one CPU: a fixed IPI to its own APIC ID lands in its IRR, every other
 * target is dropped, as on a PC with no such CPU. INIT and STARTUP to oneself are ignored: the
 * bootstrap processor does not reset itself here (kemu logs nothing for it; see docs/interrupts.md).
 */
public final class SingleCpuIpiRouter implements IpiRouter {
    private final int apicId;
    private final IntConsumer ownIrr;

    public SingleCpuIpiRouter(int apicId, IntConsumer ownIrr) {
        this.apicId = apicId;
        this.ownIrr = ownIrr;
    }

    @Override
    public void fixed(int sourceApicId, int targetApicId, int vector) {
        if (targetApicId == apicId) {
            ownIrr.accept(vector);
        }
    }

    @Override
    public void init(int sourceApicId, int targetApicId) {
    }

    @Override
    public void startup(int sourceApicId, int targetApicId, int vector) {
    }

    @Override
    public int[] apicIds() {
        return new int[]{apicId};
    }
}
