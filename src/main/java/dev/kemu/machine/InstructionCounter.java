package dev.kemu.machine;

import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Unicorn;

/**
 * Counts the instructions of a run in quanta, with a code hook on every instruction: the hook ends
 * {@code uc_emu_start} before the instruction that would exceed the quantum's limit (the instruction
 * budget left, or the instructions until the next device deadline), so a quantum runs exactly its limit
 * and the count is exact however the quantum ends (a {@code hlt}, a device's stop request, an exception).
 * The hook is native ({@code kemu_count_hook} in native/kemu_hooks.c: no Java call per instruction)
 * when libkemu_hooks is built, a Java hook otherwise; both keep the quantum's state in one
 * {@link CounterBlock}. The hook also remembers the last instruction that ran, for the interrupt shadow
 * and for telling a {@code hlt} apart. It stays installed while counting is needed, because adding or
 * removing a code hook makes Unicorn drop all translated code; a run that needs no count (no budget,
 * no interrupt hardware engaged) removes it and runs at full speed.
 *
 * <p>A run that needs virtual time but no budget counts per translated block instead
 * ({@code kemu_block_count_hook}): one native call per block, not per instruction, which keeps a 1 kHz
 * timer's cost within a few percent of an uncounted run. Deadlines stay exact: a block that would run
 * past the quantum's limit is not entered, and the instructions left run on their own up to an end
 * address inside the block ({@link #crossedLimit}, {@link #partialEnd}); an exception in the middle of a
 * block takes back the instructions after it ({@link #exceptionAt}). What a device asks for from a hook in
 * the middle of a block is seen at the block's end, as QEMU TCG sees interrupts, and a device that reads
 * the clock there reads it as of the block's end.
 */
final class InstructionCounter implements AutoCloseable {
    /** No instruction address (a higher-half address is negative as a long, so -1 is the only sentinel). */
    static final long NONE = -1;

    private final Unicorn engine;
    private final RunLoop runLoop;
    private final CounterBlock quantum;
    private HookHandle hook;
    private boolean nativeHook;
    private boolean blockHook;
    private BlockInstructions blocks;
    /** The end address of a quantum's last instructions run on their own inside a block, or {@link #NONE}. */
    private long partialEnd = NONE;
    /** The block at a crossing did not match its cached count once already (code rewritten in place). */
    private boolean redecoded;
    private long budget;
    /** Instructions of this run before the current quantum. */
    private long before;
    private Machine machine;
    /** Told each quantum's count when the quantum is folded into the run's (the virtual clock). */
    private java.util.function.LongConsumer retired = n -> { };

    InstructionCounter(Unicorn engine, RunLoop runLoop) {
        this.engine = engine;
        this.runLoop = runLoop;
        this.quantum = new CounterBlock(engine, this::watched, this::describeBlock);
        quantum.setLastAddress(NONE);
    }

    /** Starts a run with {@code budget} instructions (0 = none): resets the count. */
    void arm(long budget) {
        retired.accept(quantum.inQuantum());
        this.budget = budget;
        this.before = 0;
        quantum.setInQuantum(0);
        quantum.forgetBlocks(); // another run may hold other code at the same addresses
    }

    /** Where each finished quantum's instructions go once they stop being "in flight" ({@link #inQuantum()}). */
    void retireTo(java.util.function.LongConsumer clock) {
        this.retired = clock;
    }

    void readCodeWith(Machine machine) {
        this.machine = machine;
    }

    /** Starts a quantum of at most {@code limit} instructions; counts only when {@code counting} (else full speed). */
    void beginQuantum(boolean counting, long limit) {
        long ran = quantum.inQuantum();
        retired.accept(ran);
        before += ran;
        quantum.setInQuantum(0);
        quantum.setLimitHit(false);
        quantum.setLastAddress(NONE);
        quantum.setLimit(budget > 0 ? Math.min(limit, budget - before) : limit);
        quantum.setCrossed(false);
        quantum.setLastSetsInterruptFlag(false);
        quantum.clearBlock();
        partialEnd = NONE;
        boolean perBlock = counting && budget == 0;
        if (hook != null && (!counting || perBlock != blockHook)) {
            hook.remove();
            hook = null;
        }
        if (counting && hook == null) {
            hook = perBlock ? quantum.hookNativeBlocks() : null;
            blockHook = hook != null;
            if (hook == null) {
                hook = quantum.hookNative();
            }
            nativeHook = hook != null;
            if (hook == null) {
                hook = engine.hookCode(1, 0, this::countInstruction);
            }
        }
    }

    /** The block counter stopped before a block that would run past the quantum's limit (none of it ran). */
    boolean crossedLimit() {
        return quantum.crossed();
    }

    /**
     * After {@link #crossedLimit}: the end address to run the block at {@code rip} to, so that exactly the
     * instructions left in the quantum run; {@code runEnd} instead when the run's own end address comes first.
     * Drops the block's translation first: Unicorn honours an end address only in code it translates after.
     */
    long partialEnd(long rip, long runEnd) {
        quantum.setCrossed(false);
        long left = quantum.limit() - quantum.inQuantum();
        int[] offsets = blocks().offsets(quantum.blockAddress(), quantum.blockSize());
        if (quantum.blockAddress() != rip || left <= 0 || left >= offsets.length) {
            if (!redecoded) { // the code changed since the block was cached: count it afresh, then split it
                redecoded = true;
                quantum.forgetBlocks();
                return runEnd;
            }
            throw new IllegalStateException(String.format("the block counter stopped before the block at 0x%x "
                    + "(%d bytes, %d instructions decoded) with %d instructions left in the quantum, but RIP is 0x%x: "
                    + "Capstone and Unicorn split this block differently; an instruction budget (--budget N) counts "
                    + "per instruction instead",
                    quantum.blockAddress(), quantum.blockSize(), offsets.length, left, rip));
        }
        redecoded = false;
        long end = rip + offsets[(int) left];
        engine.removeTranslationCache(end - 1, end);
        partialEnd = end;
        return runEnd != 0 && runEnd > rip && runEnd < end ? runEnd : end;
    }

    /**
     * An exception at {@code rip} interrupted the block under way: with the block counter, the block's
     * instructions after the one at {@code rip} did not run (the one at {@code rip} counts, as it does per
     * instruction).
     */
    void exceptionAt(long rip) {
        if (!blockHook || hook == null) {
            return;
        }
        int counted = quantum.blockInstructions();
        long start = quantum.blockAddress();
        if (counted <= 1 || Long.compareUnsigned(rip - start, quantum.blockSize()) >= 0) {
            return;
        }
        int ran = blocks().ranThrough(start, quantum.blockSize(), rip);
        if (ran > 0 && ran < counted) {
            quantum.setInQuantum(quantum.inQuantum() - (counted - ran));
            quantum.setLastAddress(rip);
            quantum.setLastSetsInterruptFlag(false);
        }
        quantum.clearBlock();
    }

    private long describeBlock(long address, int size) {
        return blocks().describe(address, size);
    }

    private BlockInstructions blocks() {
        if (blocks == null) {
            blocks = new BlockInstructions(machine);
        }
        return blocks;
    }

    /** After uc_emu_start returned: a quantum that ended at the budget ends the run. */
    void endQuantum() {
        if (partialEnd != NONE && !quantum.limitHit() && quantum.inQuantum() == quantum.limit()
                && engine.regRead(dev.kemu.unicorn.X86Reg.RIP) == partialEnd) {
            quantum.setLimitHit(true); // the quantum's last instructions ran up to the end address inside their block
        }
        if (quantum.limitHit() && budget > 0 && before + quantum.inQuantum() >= budget) {
            // Concatenation, not String.format: a debugger's every stepi ends here, before the JIT has compiled a Formatter.
            runLoop.requestStop(StopReason.BUDGET_EXHAUSTED, 0, "instruction budget of " + budget + " exhausted at RIP 0x"
                    + Long.toHexString(engine.regRead(dev.kemu.unicorn.X86Reg.RIP)) + " (runaway guest?)");
        }
    }

    /** Ends the quantum under way before its next instruction (a device changed what is deliverable). */
    void endQuantumEarly() {
        quantum.setLimit(quantum.inQuantum());
    }

    /**
     * While an interrupt waits for IF: end the quantum right after an instruction that can set IF (sti, popf,
     * iret, sysret), recognised by its size and bytes (only instructions of 1 to 3 bytes are read).
     */
    void watchInterruptFlag(boolean watch) {
        quantum.setWatching(watch);
    }

    /** A short instruction about to run while watching: if it can set IF, it is the quantum's last. */
    private void watched(long address, int size) {
        if (setsInterruptFlag(address, size)) {
            quantum.setLimit(quantum.inQuantum()); // counted already: it runs, the next one stops
        }
    }

    private boolean setsInterruptFlag(long address, int size) {
        if (size > 3 || machine == null) {
            return false;
        }
        return setsInterruptFlag(machine.readVirtual(address, size), size);
    }

    /** Whether the {@code size}-byte instruction {@code code} is sti, popf, iret or sysret (1 to 3 bytes only). */
    static boolean setsInterruptFlag(byte[] code, int size) {
        if (size < 1 || size > 3 || code.length < size) {
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

    boolean counting() {
        return budget > 0;
    }

    boolean hooked() {
        return hook != null;
    }

    /** Whether the counting hook is the native one (for tests and the benchmark's notes). */
    boolean nativeHook() {
        return hook != null && nativeHook;
    }

    long budget() {
        return budget;
    }

    /** Instructions executed so far in the current (or last) counted run. */
    long count() {
        return before + quantum.inQuantum();
    }

    /** Instructions of the current quantum so far (0 when not counting). */
    long inQuantum() {
        return quantum.inQuantum();
    }

    /** Whether the quantum ended because its limit was reached (not on a hlt, an error or a stop request). */
    boolean limitHit() {
        return quantum.limitHit();
    }

    /** The address of the last instruction that ran in this quantum, or {@link #NONE} (not counting, or none ran). */
    long lastAddress() {
        return quantum.lastAddress();
    }

    /** The count as a run reports it: -1 when the run was not counted. */
    long reported() {
        return budget > 0 ? count() : -1;
    }

    /** The hlt-at-end trick ran the hlt too; it does not count. */
    void uncountOne() {
        long ran = quantum.inQuantum();
        if (ran > 0) {
            quantum.setInQuantum(ran - 1);
        } else {
            before = Math.max(0, before - 1);
        }
    }

    /** The Java hook, when the native one is not built: the same steps as kemu_count_hook. */
    private void countInstruction(Unicorn uc, long address, int size) {
        long ran = quantum.inQuantum();
        if (ran >= quantum.limit()) {
            quantum.setLimitHit(true);
            uc.stop();
            return;
        }
        quantum.setInQuantum(ran + 1);
        quantum.setLastAddress(address);
        if (quantum.watching() && size <= 3) {
            watched(address, size);
        }
    }

    /** After the engine closed. */
    @Override
    public void close() {
        if (blocks != null) {
            blocks.close();
        }
    }
}
