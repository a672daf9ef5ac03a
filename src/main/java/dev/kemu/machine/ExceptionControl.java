package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.RegisterBatch;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.OptionalInt;

/**
 * Exception control: turns what Unicorn reports (its interrupt hook, and UC_ERR_INSN_INVALID for
 * #UD) into one {@link CpuException} value for the machine's {@link Machine.ExceptionHandler},
 * and offers what a handler that resumes the guest needs: the hardware error code, the
 * calibrated #DF workaround ({@link ExceptionState}) and the switch to a remembered kernel mode
 * ({@link PrivilegeState}).
 */
final class ExceptionControl implements AutoCloseable {
    private final Machine machine;
    private final Unicorn engine;
    private final RunLoop runLoop;
    private Machine.ExceptionHandler handler = (m, exception) -> ExceptionOutcome.STOP;
    /** RIP, CS and CR2 at an exception, read with one native call. */
    private RegisterBatch trapBatch;
    private final long[] trapValues = new long[3];
    private HookHandle invalidInstruction;
    private Context scratch;
    private Context kernelMode;

    ExceptionControl(Machine machine, Unicorn engine, RunLoop runLoop) {
        this.machine = machine;
        this.engine = engine;
        this.runLoop = runLoop;
    }

    /** Hooks Unicorn's exception reports (once per machine). */
    void install() {
        engine.hookInterrupt(this::onInterrupt);
    }

    /**
     * Unicorn ends uc_emu_start with UC_ERR_INSN_INVALID for ud2 and bad opcodes instead of calling the
     * interrupt hook; this hook turns them into a #UD for the exception handler like every other vector.
     * Added before the first run.
     */
    void hookInvalidInstructions() {
        if (invalidInstruction == null) {
            invalidInstruction = engine.hookInvalidInstruction(this::onInvalidInstruction);
        }
    }

    void setHandler(Machine.ExceptionHandler handler) {
        this.handler = handler;
    }

    /** The hardware error code of the exception being handled (see {@link ExceptionState}). */
    int errorCode() {
        Context context = scratch();
        engine.contextSave(context);
        return ExceptionState.get().errorCode(context);
    }

    /** Ends the exception being handled so that the next one is not escalated to #DF (Unicorn issue 1883). */
    void finishException() {
        ExceptionState.get().finishException(engine, scratch());
    }

    void rememberKernelMode() {
        if (kernelMode == null) {
            kernelMode = engine.contextSave();
        }
    }

    boolean enterKernelMode(PrivilegeState.KernelStack stack) {
        if (kernelMode == null) {
            return false;
        }
        PrivilegeState.get().enterKernelMode(engine, scratch(), kernelMode, stack);
        return true;
    }

    int kernelCodeSelector() {
        return kernelMode == null ? -1 : PrivilegeState.get().codeSelector(kernelMode);
    }

    int kernelStackSelector() {
        return kernelMode == null ? -1 : PrivilegeState.get().stackSelector(kernelMode);
    }

    private Context scratch() {
        if (scratch == null) {
            scratch = engine.contextSave();
        }
        return scratch;
    }

    private void onInterrupt(Unicorn uc, int number) {
        CpuException exception = capture(number);
        if (handler.onException(machine, exception) == ExceptionOutcome.STOP) {
            runLoop.stopOn(exception);
        }
    }

    /**
     * True keeps Unicorn from reporting UC_ERR_INSN_INVALID; Unicorn 2.1 then goes on emulating in the same
     * uc_emu_start at the RIP the handler set (cpu-exec.c, cpu_handle_exception), so a handled #UD needs no
     * restart. (Restarting after the run ended used to re-run past a closing hlt: issue 12's #UD bug.)
     */
    private boolean onInvalidInstruction(Unicorn uc) {
        CpuException exception = capture(ExceptionVector.UD);
        if (handler.onException(machine, exception) != ExceptionOutcome.RESUME) {
            runLoop.stopOn(exception);
        }
        return true;
    }

    /** The exception Unicorn reports now, as one value: error code and CR2 only where the CPU provides them. */
    private CpuException capture(int number) {
        if (trapBatch == null) {
            trapBatch = engine.batch(X86Reg.RIP, X86Reg.CS, X86Reg.CR2);
        }
        trapBatch.read(trapValues);
        runLoop.exceptionAt(trapValues[0]);
        OptionalInt errorCode = OptionalInt.empty();
        if (ExceptionVector.hasErrorCode(number)) {
            Context context = scratch();
            engine.contextSave(context);
            ExceptionState state = ExceptionState.get();
            // int 0x0d is vector 13 too, but a software interrupt pushes no error code.
            if (!state.softwareInterrupt(context)) {
                errorCode = OptionalInt.of(state.errorCode(context));
            }
        }
        long cr2 = number == ExceptionVector.PF ? trapValues[2] : 0;
        return new CpuException(number, errorCode, cr2, trapValues[0], (int) trapValues[1] & 3, machine);
    }

    /** After the engine closed: frees the saved contexts. */
    @Override
    public void close() {
        if (scratch != null) {
            scratch.close();
        }
        if (kernelMode != null) {
            kernelMode.close();
        }
    }
}
