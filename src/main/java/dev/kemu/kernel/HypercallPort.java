package dev.kemu.kernel;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.unicorn.RegisterBatch;
import dev.kemu.unicorn.X86Reg;

/**
 * The hypercall device: {@code out HYPERCALL_PORT, al} with the service number in RAX and
 * arguments in RDI, RSI, RDX, R10, R8, R9 calls the service; its result lands in RAX.
 * Dispatch is a table indexed by the named numbers of {@link GuestAbi}; an unknown number
 * returns {@link GuestAbi#ENOSYS}. One batched register read and one write per call.
 */
public final class HypercallPort implements PortDevice {
    private static final int MAX_SERVICES = 64;

    private final Hypercall[] services = new Hypercall[MAX_SERVICES];
    private final long[] registers = new long[7];
    private final long[] args = new long[6];
    private final long[] result = new long[1];
    private RegisterBatch argumentBatch;
    private RegisterBatch resultBatch;

    public HypercallPort() {
        register(GuestAbi.HC_PROBE, (machine, a) -> GuestAbi.KEMU_MAGIC);
    }

    public void register(int number, Hypercall service) {
        if (number < 0 || number >= MAX_SERVICES) {
            throw new IllegalArgumentException("hypercall number out of range: " + number);
        }
        services[number] = service;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        if (argumentBatch == null) {
            argumentBatch = machine.engine().batch(X86Reg.RAX, X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.R10,
                    X86Reg.R8, X86Reg.R9);
            resultBatch = machine.engine().batch(X86Reg.RAX);
        }
        argumentBatch.read(registers);
        System.arraycopy(registers, 1, args, 0, 6);
        long number = registers[0];
        Hypercall service = number >= 0 && number < MAX_SERVICES ? services[(int) number] : null;
        result[0] = service == null ? GuestAbi.ENOSYS : service.call(machine, args);
        resultBatch.write(result);
    }
}
