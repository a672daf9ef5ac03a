package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Two fields of the emulated CPU that Unicorn has no API for, found by calibration in the
 * saved context ({@code uc_context}) of the loaded library:
 * <ul>
 * <li>{@code old_exception}: Unicorn never resets it after a hooked exception (upstream issue
 * 1883), so the next #PF is escalated to #DF and then to a triple fault. Writing -1 back after
 * each handled exception keeps every fault a plain #PF.</li>
 * <li>{@code error_code}: the hardware page-fault error code (P, W, U, RSVD, I/D bits).</li>
 * <li>{@code exception_is_int}: set for a software interrupt ({@code int n}, {@code int3}), which
 * pushes no error code even for vector 13 or 14. QEMU keeps it right after {@code error_code};
 * calibration checks that one offset (0 after a #PF and a #GP, 1 after {@code int 0x0d} and
 * {@code int3}) and, if it does not hold, leaves the field unknown: every exception then counts
 * as raised by the CPU, as before.</li>
 * </ul>
 * Calibration runs once per JVM in scratch engines: a first #PF for {@code old_exception}, four
 * faults with known error codes (read of a not-present page 0x0, write 0x2, write to a
 * read-only page 0x3, fetch from a no-execute page 0x11) for the error code, and a search for
 * the single offset holding each sequence ({@link ContextFieldSearch}). When several offsets
 * match, another round with different values (a #GP; the faults in reverse order) must
 * settle it, else calibration fails instead of guessing. The offsets are never hard-coded
 * because they differ between library versions.
 */
public final class ExceptionState {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static volatile ExceptionState calibrated;

    private final long oldExceptionOffset;
    private final long errorCodeOffset;
    /** -1 when calibration could not confirm the field. */
    private final long softwareInterruptOffset;

    private ExceptionState(long oldExceptionOffset, long errorCodeOffset, long softwareInterruptOffset) {
        this.oldExceptionOffset = oldExceptionOffset;
        this.errorCodeOffset = errorCodeOffset;
        this.softwareInterruptOffset = softwareInterruptOffset;
    }

    public static ExceptionState get() {
        ExceptionState state = calibrated;
        if (state == null) {
            synchronized (ExceptionState.class) {
                state = calibrated;
                if (state == null) {
                    state = calibrate();
                    calibrated = state;
                }
            }
        }
        return state;
    }

    public long oldExceptionOffset() {
        return oldExceptionOffset;
    }

    public long errorCodeOffset() {
        return errorCodeOffset;
    }

    /** The error code of the exception being handled, from a context saved inside the interrupt hook. */
    public int errorCode(Context saved) {
        return saved.bytes().get(I32, errorCodeOffset);
    }

    /** Whether the exception in {@code saved} (a context saved inside the interrupt hook) is an {@code int n}. */
    public boolean softwareInterrupt(Context saved) {
        return softwareInterruptOffset >= 0 && saved.bytes().get(I32, softwareInterruptOffset) != 0;
    }

    /** Whether calibration confirmed where the software-interrupt flag lives. */
    public boolean knowsSoftwareInterrupts() {
        return softwareInterruptOffset >= 0;
    }

    /** Marks the exception as finished so that the next one is not escalated; {@code scratch} is overwritten. */
    public void finishException(Unicorn engine, Context scratch) {
        engine.contextSave(scratch);
        scratch.bytes().set(I32, oldExceptionOffset, -1);
        engine.contextRestore(scratch);
    }

    // ---- calibration -------------------------------------------------------------------------

    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
    private static final long CODE = 0x10000, READ_ONLY = 0x11000, NO_EXEC = 0x12000, MISSING = 0x13000,
            STACK = 0x14000;
    /** mov eax,[MISSING] ; mov [MISSING],eax ; mov [READ_ONLY],eax ; movabs eax,[non-canonical] (then NO_EXEC). */
    private static final byte[] FAULTS = {(byte) 0x8B, 0x04, 0x25, 0, 0x30, 1, 0, (byte) 0x89, 0x04, 0x25, 0, 0x30,
            1, 0, (byte) 0x89, 0x04, 0x25, 0, 0x10, 1, 0, (byte) 0xA1, 0, 0, 0, 0, 0, 0, 0, (byte) 0x80};
    static final long READ_MISSING = CODE, WRITE_MISSING = CODE + 7, WRITE_READ_ONLY = CODE + 14,
            NON_CANONICAL = CODE + 21;
    /** int 0x0d ; int3 (after the faults). */
    private static final byte[] SOFTWARE_INTERRUPTS = {(byte) 0xCD, 0x0D, (byte) 0xCC};
    private static final long INT_0D = CODE + 0x40, INT3 = CODE + 0x42;
    /** The four #PFs with known error codes: not-present read 0x0, write 0x2, read-only write 0x3, NX fetch 0x11. */
    private static final long[] PAGE_FAULTS = {READ_MISSING, WRITE_MISSING, WRITE_READ_ONLY, NO_EXEC};
    private static final int[] ERROR_CODES = {0x0, 0x2, 0x3, 0x11};

    private static ExceptionState calibrate() {
        // A second round with another vector (#GP 13 instead of #PF 14) only if the first is ambiguous.
        long oldException = ContextFieldSearch.unique("old_exception", List.of(
                () -> firstException(READ_MISSING, ExceptionVector.PF),
                () -> firstException(NON_CANONICAL, ExceptionVector.GP)));
        // Again in reverse order, so that each fault's code lands after a different predecessor.
        long errorCode = ContextFieldSearch.unique("the page-fault error code", List.of(
                () -> errorCodes(oldException, false),
                () -> errorCodes(oldException, true)));
        if (errorCode == oldException) {
            throw new IllegalStateException("calibration found old_exception and the error code both at offset 0x"
                    + Long.toHexString(errorCode) + " of the saved CPU context; this libunicorn is not supported");
        }
        return new ExceptionState(oldException, errorCode, softwareInterruptFlag(oldException, errorCode + 4));
    }

    /** {@code candidate} if it holds 0 after #PF and #GP and 1 after int 0x0d and int3, else -1. */
    static long softwareInterruptFlag(long oldException, long candidate) {
        long[] starts = {READ_MISSING, INT_0D, NON_CANONICAL, INT3};
        int[] vectors = {ExceptionVector.PF, ExceptionVector.GP, ExceptionVector.GP, ExceptionVector.BP};
        int[] expected = {0, 1, 0, 1};
        List<ContextFieldSearch.Observation> observations = new ArrayList<>();
        try (Unicorn uc = pagedEngine(); Context scratch = uc.contextSave()) {
            for (int i = 0; i < starts.length; i++) {
                observations.add(new ContextFieldSearch.Observation(runToException(uc, starts[i], vectors[i]),
                        expected[i]));
                uc.contextSave(scratch);
                scratch.bytes().set(I32, oldException, -1);
                uc.contextRestore(scratch);
            }
        }
        return ContextFieldSearch.offsetsHolding(observations).contains(candidate) ? candidate : -1;
    }

    /** old_exception is -1 before any exception and the vector after the first one. */
    static List<ContextFieldSearch.Observation> firstException(long start, int expectedVector) {
        try (Unicorn uc = pagedEngine(); Context fresh = uc.contextSave()) {
            byte[] before = fresh.bytes().toArray(ValueLayout.JAVA_BYTE);
            byte[] after = runToException(uc, start, expectedVector);
            return List.of(new ContextFieldSearch.Observation(before, -1),
                    new ContextFieldSearch.Observation(after, expectedVector));
        }
    }

    /** The four page faults in a fresh engine, old_exception reset after each so that none escalates. */
    static List<ContextFieldSearch.Observation> errorCodes(long oldException, boolean reversed) {
        List<ContextFieldSearch.Observation> observations = new ArrayList<>();
        try (Unicorn uc = pagedEngine(); Context scratch = uc.contextSave()) {
            for (int n = 0; n < PAGE_FAULTS.length; n++) {
                int i = reversed ? PAGE_FAULTS.length - 1 - n : n;
                observations.add(new ContextFieldSearch.Observation(
                        runToException(uc, PAGE_FAULTS[i], ExceptionVector.PF), ERROR_CODES[i]));
                uc.contextSave(scratch);
                scratch.bytes().set(I32, oldException, -1);
                uc.contextRestore(scratch);
            }
        }
        return observations;
    }

    /** Runs one instruction at {@code start}; returns the context saved inside the interrupt hook. */
    private static byte[] runToException(Unicorn uc, long start, int expectedVector) {
        int[] vector = {-1};
        byte[][] inside = new byte[1][];
        HookHandle hook = uc.hookInterrupt((engine, v) -> {
            vector[0] = v;
            try (Context saved = engine.contextSave()) {
                inside[0] = saved.bytes().toArray(ValueLayout.JAVA_BYTE);
            }
            engine.stop();
        });
        try {
            uc.start(start, start + 0x100, 0, 1);
        } finally {
            hook.remove();
        }
        if (vector[0] != expectedVector) {
            throw new IllegalStateException("calibration fault at 0x" + Long.toHexString(start) + " arrived as "
                    + ExceptionVector.describe(vector[0]) + ", expected " + ExceptionVector.describe(expectedVector));
        }
        return inside[0];
    }

    /** A scratch engine with paging, NX and WP on, and the pages the calibration faults need. */
    private static Unicorn pagedEngine() {
        Unicorn uc = Unicorn.openX86_64();
        try {
            uc.memMap(0, 0x20000, Prot.ALL);
            long rw = 3, nx = 1L << 63;
            Calibration.write64(uc, PML4, PDPT | rw);
            Calibration.write64(uc, PDPT, PD | rw);
            Calibration.write64(uc, PD, PT | rw);
            Calibration.write64(uc, PT + 8 * (CODE >> 12), CODE | 1);
            Calibration.write64(uc, PT + 8 * (READ_ONLY >> 12), READ_ONLY | 1 | nx);
            Calibration.write64(uc, PT + 8 * (NO_EXEC >> 12), NO_EXEC | rw | nx);
            Calibration.write64(uc, PT + 8 * (STACK >> 12), STACK | rw | nx);
            uc.memWrite(CODE, FAULTS);
            uc.memWrite(INT_0D, SOFTWARE_INTERRUPTS);
            uc.regWrite(X86Reg.CR3, PML4);
            uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
            uc.writeMsr(X86Reg.MSR_EFER, uc.readMsr(X86Reg.MSR_EFER) | CpuState.EFER_NXE);
            uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
            uc.regWrite(X86Reg.RSP, STACK + 0x800);
            return uc;
        } catch (RuntimeException e) {
            uc.close();
            throw e;
        }
    }
}
