package dev.kemu.machine;

import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Unicorn;

/**
 * Counts the instructions of a run with a code hook on every instruction, in quanta: the hook ends
 * {@code uc_emu_start} before the instruction that would exceed the quantum's limit (the instruction
 * budget left, or the instructions until the next device deadline), so a quantum runs exactly its limit
 * and the count is exact however the quantum ends (a {@code hlt}, a device's stop request, an exception).
 * The hook also remembers the address of the last instruction that ran, for the interrupt shadow and
 * for telling a {@code hlt} apart. It stays installed while counting is needed, because adding or
 * removing a code hook makes Unicorn drop all translated code; a run that needs no count (no budget,
 * no interrupt hardware engaged) removes it and runs at full speed.
 */
final class InstructionCounter {
    private final Unicorn engine;
    private final RunLoop runLoop;
    private HookHandle hook;
    private long budget;
    /** Instructions of this run before the current quantum, and in it so far. */
    private long before, inQuantum;
    private long limit;
    private boolean limitHit;
    /** No instruction address (a higher-half address is negative as a long, so -1 is the only sentinel). */
    static final long NONE = -1;
    private long lastAddress = NONE;
    private boolean watchInterruptFlag;
    private Machine machine;
    /** Told each quantum's count when the quantum is folded into the run's (the virtual clock). */
    private java.util.function.LongConsumer retired = n -> { };

    InstructionCounter(Unicorn engine, RunLoop runLoop) {
        this.engine = engine;
        this.runLoop = runLoop;
    }

    /** Starts a run with {@code budget} instructions (0 = none): resets the count. */
    void arm(long budget) {
        retired.accept(inQuantum);
        this.budget = budget;
        this.before = 0;
        this.inQuantum = 0;
    }

    /** Where each finished quantum's instructions go once they stop being "in flight" ({@link #inQuantum()}). */
    void retireTo(java.util.function.LongConsumer clock) {
        this.retired = clock;
    }

    /** Starts a quantum of at most {@code quantum} instructions; counts only when {@code counting} (else full speed). */
    void beginQuantum(boolean counting, long quantum) {
        retired.accept(inQuantum);
        before += inQuantum;
        inQuantum = 0;
        limitHit = false;
        lastAddress = NONE;
        limit = budget > 0 ? Math.min(quantum, budget - before) : quantum;
        if (counting && hook == null) {
            hook = engine.hookCode(1, 0, this::countInstruction);
        } else if (!counting && hook != null) {
            hook.remove();
            hook = null;
        }
    }

    /**
     * While an interrupt waits for IF: end the quantum right after an instruction that can set IF (sti, popf,
     * iret, sysret), recognised by its size and bytes (only instructions of 1 to 3 bytes are read).
     */
    void watchInterruptFlag(boolean watch) {
        this.watchInterruptFlag = watch;
    }

    void readCodeWith(Machine machine) {
        this.machine = machine;
    }

    private boolean setsInterruptFlag(long address, int size) {
        if (size > 3 || machine == null) {
            return false;
        }
        byte[] code = machine.readVirtual(address, size);
        if (code.length < size) {
            return false;
        }
        int first = code[0] & 0xff;
        int last = code[size - 1] & 0xff;
        boolean prefixed = size == 1 || first == 0x48 || first == 0x66;
        return switch (last) {
            case 0xfb -> size == 1; // sti
            case 0x9d, 0xcf -> prefixed && size <= 2; // popf, iret (o16 / rex.w forms)
            case 0x07 -> size >= 2 && (code[size - 2] & 0xff) == 0x0f; // sysret
            default -> false;
        };
    }

    /** Ends the quantum under way before its next instruction (a device changed what is deliverable). */
    void endQuantumEarly() {
        limit = inQuantum;
    }

    boolean counting() {
        return budget > 0;
    }

    boolean hooked() {
        return hook != null;
    }

    long budget() {
        return budget;
    }

    /** Instructions executed so far in the current (or last) counted run. */
    long count() {
        return before + inQuantum;
    }

    /** Instructions of the current quantum so far (0 when not counting). */
    long inQuantum() {
        return inQuantum;
    }

    /** Whether the quantum ended because its limit was reached (not on a hlt, an error or a stop request). */
    boolean limitHit() {
        return limitHit;
    }

    /** The address of the last instruction that ran in this quantum, or {@link #NONE} (not counting, or none ran). */
    long lastAddress() {
        return lastAddress;
    }

    /** The count as a run reports it: -1 when the run was not counted. */
    long reported() {
        return budget > 0 ? count() : -1;
    }

    /** The hlt-at-end trick ran the hlt too; it does not count. */
    void uncountOne() {
        if (inQuantum > 0) {
            inQuantum--;
        } else {
            before = Math.max(0, before - 1);
        }
    }

    private void countInstruction(Unicorn uc, long address, int size) {
        if (inQuantum >= limit) {
            // The hook runs before its instruction, and Unicorn checks for a stop right after it: the
            // instruction at `address` does not run, so the quantum ran exactly `limit` instructions.
            limitHit = true;
            if (budget > 0 && before + inQuantum >= budget) {
                runLoop.requestStop(StopReason.BUDGET_EXHAUSTED, 0, String.format(
                        "instruction budget of %d exhausted at RIP 0x%x (runaway guest?)", budget, address));
            } else {
                uc.stop();
            }
            return;
        }
        inQuantum++;
        lastAddress = address;
        if (watchInterruptFlag && setsInterruptFlag(address, size)) {
            limit = inQuantum; // this one runs; the next hook ends the quantum
        }
    }
}
