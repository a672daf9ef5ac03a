package dev.kemu.machine;

import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Unicorn;

/**
 * Counts the instructions of a counted run with a code hook on every instruction and ends the
 * run when the budget is spent. The hook stays installed across counted runs, because adding
 * or removing a code hook makes Unicorn drop all translated code; an uncounted run removes it
 * and runs at full speed.
 */
final class InstructionCounter {
    private final Unicorn engine;
    private final RunLoop runLoop;
    private HookHandle hook;
    private long budget;
    private long instructions;

    InstructionCounter(Unicorn engine, RunLoop runLoop) {
        this.engine = engine;
        this.runLoop = runLoop;
    }

    /** Starts a run with {@code budget} instructions (0 = uncounted): resets the count, adds or removes the hook. */
    void arm(long budget) {
        this.budget = budget;
        this.instructions = 0;
        if (budget > 0 && hook == null) {
            hook = engine.hookCode(1, 0, this::countInstruction);
        } else if (budget == 0 && hook != null) {
            hook.remove();
            hook = null;
        }
    }

    boolean counting() {
        return budget > 0;
    }

    long budget() {
        return budget;
    }

    /** Instructions executed so far in the current (or last) counted run. */
    long count() {
        return instructions;
    }

    /** The count as a run reports it: -1 when the run was not counted. */
    long reported() {
        return budget > 0 ? instructions : -1;
    }

    /** The hlt-at-end trick ran the hlt too; it does not count. */
    void uncountOne() {
        instructions = Math.max(0, instructions - 1);
    }

    private void countInstruction(Unicorn uc, long address, int size) {
        if (budget > 0 && ++instructions >= budget) {
            // Unicorn's hook fires before the instruction: stopping here ends the run with
            // exactly `budget` instructions counted.
            runLoop.requestStop(StopReason.BUDGET_EXHAUSTED, 0, String.format(
                    "instruction budget of %d exhausted at RIP 0x%x (runaway guest?)", budget, address));
        }
    }
}
