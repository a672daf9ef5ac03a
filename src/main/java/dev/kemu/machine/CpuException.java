package dev.kemu.machine;

import java.util.OptionalInt;

/**
 * One CPU exception as the machine saw it, built once when Unicorn reports it and passed to the
 * {@link Machine.ExceptionHandler}: the vector ({@link ExceptionVector}), the hardware error code
 * (for the vectors that push one), CR2 (for #PF), RIP of the faulting instruction and the CPL
 * it ran at. Whether the guest's IDT has a present gate for it is looked up on first use, so a
 * #PF that demand paging resolves never pays for reading the IDT.
 *
 * <p>Valid while the exception is being handled (inside the handler call).
 */
public final class CpuException {
    private final int vector;
    private final OptionalInt errorCode;
    private final long cr2;
    private final long rip;
    private final int cpl;
    private final Machine machine;
    private final boolean external;
    private IdtGate.Lookup gate;

    CpuException(int vector, OptionalInt errorCode, long cr2, long rip, int cpl, Machine machine) {
        this(vector, errorCode, cr2, rip, cpl, machine, false);
    }

    private CpuException(int vector, OptionalInt errorCode, long cr2, long rip, int cpl, Machine machine,
                         boolean external) {
        this.external = external;
        this.vector = vector;
        this.errorCode = errorCode;
        this.cr2 = cr2;
        this.rip = rip;
        this.cpl = cpl;
        this.machine = machine;
    }

    /** The CPU (its machine) that raised the exception. */
    public Machine machine() {
        return machine;
    }

    /** An external interrupt taken at the boundary before {@code rip}: no error code, no CR2, whatever the vector. */
    static CpuException external(int vector, long rip, int cpl, Machine machine) {
        return new CpuException(vector, OptionalInt.empty(), 0, rip, cpl, machine, true);
    }

    /** Whether this is an external interrupt (from the PIC or the APIC), not an exception the CPU raised. */
    public boolean external() {
        return external;
    }

    /** The vector number; compare with the names in {@link ExceptionVector}. */
    public int vector() {
        return vector;
    }

    public boolean is(int expected) {
        return vector == expected;
    }

    /** The error code the CPU pushes, for the vectors that have one ({@link ExceptionVector#hasErrorCode}). */
    public OptionalInt errorCode() {
        return errorCode;
    }

    /** The error code, or -1 for vectors without one (the convention of the report builders). */
    public int errorCodeOrMinusOne() {
        return errorCode.orElse(-1);
    }

    /** The faulting linear address of a #PF (CR2); 0 for every other vector. */
    public long cr2() {
        return cr2;
    }

    /**
     * The RIP the CPU pushes: the faulting instruction for faults (#PF, #GP, #UD, ...), the next
     * instruction for traps ({@code int3}, {@code into}, {@code int n}, a single-step #DB).
     */
    public long rip() {
        return rip;
    }

    /** The privilege level the faulting code ran at (CS & 3). */
    public int cpl() {
        return cpl;
    }

    /** The guest's IDT gate for this vector, or why it has none (read on first call). */
    public IdtGate.Lookup idtGate() {
        if (gate == null) {
            CpuState cpu = machine.cpu();
            gate = IdtGate.read(machine, cpu.idtr(), vector, cpu.longModeActive());
        }
        return gate;
    }

    /** Whether the guest's IDT has a present gate for this vector that kemu can deliver through. */
    public boolean hasIdtGate() {
        return idtGate().gate().isPresent();
    }

    /** The #DF the CPU raises when this exception cannot be delivered (error code 0, same RIP). */
    public CpuException doubleFault() {
        return new CpuException(ExceptionVector.DF, OptionalInt.of(0), cr2, rip, cpl, machine);
    }

    /** The exception the CPU raised while delivering this one (same RIP and CPL), to be delivered in its place. */
    public CpuException raisedWhileDelivering(DeliveryResult.Faulted fault) {
        OptionalInt code = ExceptionVector.hasErrorCode(fault.vector()) ? OptionalInt.of(fault.errorCode())
                : OptionalInt.empty();
        return new CpuException(fault.vector(), code, fault.vector() == ExceptionVector.PF ? fault.cr2() : cr2, rip, cpl,
                machine);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(ExceptionVector.describe(vector))
                .append(String.format(" at RIP 0x%x, CPL %d", rip, cpl));
        errorCode.ifPresent(code -> text.append(String.format(", error code 0x%x", code)));
        if (vector == ExceptionVector.PF) {
            text.append(String.format(", CR2 0x%x", cr2));
        }
        return text.toString();
    }
}
