package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;

/**
 * The hypercall port in pure Java, used when the native trampoline is not built: the service
 * number arrives with the {@code out} (AL), the arguments come in one batched read of only as
 * many registers as the service declares, and the result goes back with one register write.
 */
final class JavaHypercallDevice implements PortDevice {
    private static final int[] ARGUMENTS = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.R10, X86Reg.R8, X86Reg.R9};

    private final HypercallHandler handler;
    private final RegisterBlock[] blocks = new RegisterBlock[ARGUMENTS.length + 1];
    private final long[] args = new long[ARGUMENTS.length];
    /** The machine the cached register blocks read: several CPUs share this device, each with its own engine. */
    private Machine blocksOf;

    JavaHypercallDevice(HypercallHandler handler) {
        this.handler = handler;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        int number = value & 0xff;
        int count = Math.max(0, Math.min(ARGUMENTS.length, handler.arity(number)));
        java.util.Arrays.fill(args, count, args.length, 0);
        if (machine != blocksOf) {
            java.util.Arrays.fill(blocks, null);
            blocksOf = machine;
        }
        if (count > 0) {
            RegisterBlock block = blocks[count];
            if (block == null) {
                block = machine.registers(java.util.Arrays.copyOf(ARGUMENTS, count));
                blocks[count] = block;
            }
            block.read(args);
        }
        machine.setRegister(X86Reg.RAX, handler.call(machine, number, args));
    }
}
