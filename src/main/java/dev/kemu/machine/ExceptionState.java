package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.MemorySegment;
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
 * </ul>
 * Calibration runs once per JVM in a scratch engine: four faults with known error codes
 * (read of a not-present page 0x0, write 0x2, write to a read-only page 0x3, fetch from a
 * no-execute page 0x11) and a search for the single offset holding each sequence. The
 * offsets are never hard-coded because they differ between library versions.
 */
public final class ExceptionState {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static volatile ExceptionState calibrated;

    private final long oldExceptionOffset;
    private final long errorCodeOffset;

    private ExceptionState(long oldExceptionOffset, long errorCodeOffset) {
        this.oldExceptionOffset = oldExceptionOffset;
        this.errorCodeOffset = errorCodeOffset;
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

    private static ExceptionState calibrate() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.memMap(0, 0x20000, Prot.ALL);
            long rw = 3, nx = 1L << 63;
            Calibration.write64(uc, PML4, PDPT | rw);
            Calibration.write64(uc, PDPT, PD | rw);
            Calibration.write64(uc, PD, PT | rw);
            Calibration.write64(uc, PT + 8 * (CODE >> 12), CODE | 1);
            Calibration.write64(uc, PT + 8 * (READ_ONLY >> 12), READ_ONLY | 1 | nx);
            Calibration.write64(uc, PT + 8 * (NO_EXEC >> 12), NO_EXEC | rw | nx);
            Calibration.write64(uc, PT + 8 * (STACK >> 12), STACK | rw | nx);
            // mov eax,[MISSING] ; mov [MISSING],eax ; mov [READ_ONLY],eax ; (then a jump to NO_EXEC)
            byte[] code = {(byte) 0x8B, 0x04, 0x25, 0, 0x30, 1, 0, (byte) 0x89, 0x04, 0x25, 0, 0x30, 1, 0,
                    (byte) 0x89, 0x04, 0x25, 0, 0x10, 1, 0};
            uc.memWrite(CODE, code);
            uc.regWrite(X86Reg.CR3, PML4);
            uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
            uc.writeMsr(X86Reg.MSR_EFER, uc.readMsr(X86Reg.MSR_EFER) | CpuState.EFER_NXE);
            uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
            uc.regWrite(X86Reg.RSP, STACK + 0x800);

            List<byte[]> atFault = new ArrayList<>();
            int[] vector = {-1};
            uc.hookInterrupt((engine, v) -> {
                vector[0] = v;
                try (Context inside = engine.contextSave()) {
                    atFault.add(inside.bytes().toArray(ValueLayout.JAVA_BYTE));
                }
                engine.stop();
            });
            byte[] before;
            try (Context fresh = uc.contextSave()) {
                before = fresh.bytes().toArray(ValueLayout.JAVA_BYTE);
            }
            long oldException = -1;
            long[] starts = {CODE, CODE + 7, CODE + 14, NO_EXEC};
            try (Context scratch = uc.contextSave()) {
                for (int i = 0; i < starts.length; i++) {
                    uc.start(starts[i], starts[i] + 0x100, 0, 1);
                    if (vector[0] != ExceptionVector.PF) {
                        throw new IllegalStateException("calibration fault " + i + " arrived as vector " + vector[0]);
                    }
                    if (i == 0) {
                        oldException = findOldException(before, atFault.get(0));
                    }
                    MemorySegment saved = scratch.bytes();
                    uc.contextSave(scratch);
                    saved.set(I32, oldException, -1);
                    uc.contextRestore(scratch);
                }
            }
            return new ExceptionState(oldException, findErrorCode(atFault, new int[]{0x0, 0x2, 0x3, 0x11}));
        }
    }

    private static long findOldException(byte[] before, byte[] after) {
        List<Long> offsets = new ArrayList<>();
        MemorySegment b = MemorySegment.ofArray(before), a = MemorySegment.ofArray(after);
        for (long at = 0; at + 4 <= Math.min(before.length, after.length); at += 4) {
            if (b.get(I32, at) == -1 && a.get(I32, at) == ExceptionVector.PF) {
                offsets.add(at);
            }
        }
        if (offsets.size() != 1) {
            throw new IllegalStateException("cannot calibrate old_exception in this libunicorn: candidate offsets "
                    + offsets + " (expected exactly one field that is -1 before a #PF and 14 after)");
        }
        return offsets.get(0);
    }

    private static long findErrorCode(List<byte[]> contexts, int[] expected) {
        List<Long> offsets = new ArrayList<>();
        int length = contexts.stream().mapToInt(c -> c.length).min().orElse(0);
        for (long at = 0; at + 4 <= length; at += 4) {
            boolean all = true;
            for (int i = 0; i < expected.length && all; i++) {
                all = MemorySegment.ofArray(contexts.get(i)).get(I32, at) == expected[i];
            }
            if (all) {
                offsets.add(at);
            }
        }
        if (offsets.isEmpty()) {
            throw new IllegalStateException("cannot calibrate the page-fault error code in this libunicorn: no field "
                    + "holds 0x0, 0x2, 0x3, 0x11 across the four calibration faults");
        }
        return offsets.get(0);
    }
}
