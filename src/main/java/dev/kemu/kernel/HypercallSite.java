package dev.kemu.kernel;

import dev.kemu.kernel.slab.CallSite;
import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;

/**
 * The guest site of the hypercall being served: RIP is already past the {@code out} (the HYPERCALL
 * macro is inline, so that is the caller's own code), and the instruction count at that moment.
 */
record HypercallSite(Machine machine) implements CallSite {
    @Override
    public long rip() {
        return machine.register(X86Reg.RIP);
    }

    @Override
    public long instructions() {
        return machine.instructionCount();
    }

    @Override
    public int cpu() {
        return 0;
    }
}
