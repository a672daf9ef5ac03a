package dev.kemu.kernel;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.RegisterBlock;
import dev.kemu.unicorn.X86Reg;

/**
 * The hypercall device: {@code out HYPERCALL_PORT, al} calls service AL (the low byte of RAX,
 * which {@code HYPERCALL} sets with {@code mov eax, n}) with arguments in RDI, RSI, RDX, R10,
 * R8, R9; the result lands in RAX. Dispatch is a table indexed by the named numbers of
 * {@link GuestAbi}; an unknown number returns {@link GuestAbi#ENOSYS}.
 *
 * <p>Cost per call: the service number arrives with the {@code out} (no register read), the
 * arguments come in one batched read of only as many registers as the service declares, and
 * the result goes back with one register write.
 */
public final class HypercallPort implements PortDevice {
    private static final int MAX_SERVICES = 64;
    private static final int[] ARGUMENT_REGISTERS = {X86Reg.RDI, X86Reg.RSI, X86Reg.RDX, X86Reg.R10, X86Reg.R8, X86Reg.R9};

    private final Hypercall[] services = new Hypercall[MAX_SERVICES];
    private final int[] arity = new int[MAX_SERVICES];
    private final RegisterBlock[] argumentBatches = new RegisterBlock[ARGUMENT_REGISTERS.length + 1];
    private final long[] args = new long[ARGUMENT_REGISTERS.length];
    private Machine boundTo;

    public HypercallPort() {
        register(GuestAbi.HC_PROBE, 0, (machine, a) -> GuestAbi.KEMU_MAGIC);
    }

    /** Registers a service that reads all six argument registers. */
    public void register(int number, Hypercall service) {
        register(number, ARGUMENT_REGISTERS.length, service);
    }

    /** Registers a service that reads its first {@code arguments} argument registers (the rest read as 0). */
    public void register(int number, int arguments, Hypercall service) {
        if (number < 0 || number >= MAX_SERVICES) {
            throw new IllegalArgumentException("hypercall number out of range: " + number);
        }
        if (arguments < 0 || arguments > ARGUMENT_REGISTERS.length) {
            throw new IllegalArgumentException("a hypercall takes 0 to 6 arguments, not " + arguments);
        }
        services[number] = service;
        arity[number] = arguments;
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        int number = value & 0xff;
        Hypercall service = number < MAX_SERVICES ? services[number] : null;
        long result;
        if (service == null) {
            result = GuestAbi.ENOSYS;
        } else {
            int count = arity[number];
            java.util.Arrays.fill(args, count, args.length, 0);
            if (count > 0) {
                batch(machine, count).read(args);
            }
            result = service.call(machine, args);
        }
        machine.setRegister(X86Reg.RAX, result);
    }

    private RegisterBlock batch(Machine machine, int count) {
        if (boundTo != machine) {
            java.util.Arrays.fill(argumentBatches, null);
            boundTo = machine;
        }
        RegisterBlock batch = argumentBatches[count];
        if (batch == null) {
            batch = machine.registers(java.util.Arrays.copyOf(ARGUMENT_REGISTERS, count));
            argumentBatches[count] = batch;
        }
        return batch;
    }
}
