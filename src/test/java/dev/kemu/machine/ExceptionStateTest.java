package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The calibrated offsets do what they are for, in an engine of their own. */
class ExceptionStateTest {
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000, CODE = 0x10000,
            FIRST_MISSING = 0x13000, SECOND_MISSING = 0x15000, RESERVED_BIT = 0x16000;

    @Test
    void calibration_findsDistinctOffsetsInsideTheContext() {
        ExceptionState state = ExceptionState.get();
        assertTrue(state.oldExceptionOffset() > 0);
        assertTrue(state.errorCodeOffset() > 0);
        assertNotEquals(state.oldExceptionOffset(), state.errorCodeOffset());
        assertTrue(state.oldExceptionOffset() % 4 == 0 && state.errorCodeOffset() % 4 == 0);
    }

    @Test
    void everyCalibrationRound_onItsOwn_findsTheCalibratedOffset() {
        // The second rounds run only when the first is ambiguous; each must still point at the same field.
        ExceptionState state = ExceptionState.get();
        assertEquals(state.oldExceptionOffset(), ContextFieldSearch.unique("old_exception",
                List.of(() -> ExceptionState.firstException(ExceptionState.NON_CANONICAL, ExceptionVector.GP))));
        assertEquals(state.errorCodeOffset(), ContextFieldSearch.unique("error_code",
                List.of(() -> ExceptionState.errorCodes(state.oldExceptionOffset(), true))));
    }

    /** Paging and NXE on, code at CODE, two not-present pages, one page whose PTE sets a reserved bit. */
    private static Unicorn pagedEngine(byte[] code) {
        Unicorn uc = Unicorn.openX86_64();
        uc.memMap(0, 0x20000, Prot.ALL);
        Calibration.write64(uc, PML4, PDPT | 3);
        Calibration.write64(uc, PDPT, PD | 3);
        Calibration.write64(uc, PD, PT | 3);
        Calibration.write64(uc, PT + 8 * (CODE >> 12), CODE | 1);
        Calibration.write64(uc, PT + 8 * (RESERVED_BIT >> 12), RESERVED_BIT | 3 | (1L << 51));
        uc.memWrite(CODE, code);
        uc.regWrite(X86Reg.CR3, PML4);
        uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
        // with NXE, as the kernel runs: without it (or SMEP) the CPU leaves the fetch bit of the error code clear
        uc.writeMsr(X86Reg.MSR_EFER, uc.readMsr(X86Reg.MSR_EFER) | CpuState.EFER_NXE);
        uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG);
        return uc;
    }

    /** mov eax, [FIRST_MISSING] ; mov eax, [SECOND_MISSING]: two #PFs, each resolved by mapping the page. */
    private static List<Integer> vectorsOfTwoDemandFaults(boolean finishEachException) {
        byte[] code = {(byte) 0x8B, 0x04, 0x25, 0, 0x30, 1, 0, (byte) 0x8B, 0x04, 0x25, 0, 0x50, 1, 0};
        List<Integer> vectors = new ArrayList<>();
        try (Unicorn uc = pagedEngine(code); Context scratch = uc.contextSave()) {
            uc.hookInterrupt((engine, vector) -> {
                vectors.add(vector);
                long address = engine.regRead(X86Reg.CR2);
                if (vector != ExceptionVector.PF || vectors.size() > 2) {
                    engine.stop();
                    return;
                }
                Calibration.write64(engine, PT + 8 * (address >> 12), (address & ~0xfffL) | 3);
                engine.flushTlb();
                if (finishEachException) {
                    ExceptionState.get().finishException(engine, scratch);
                }
            });
            uc.start(CODE, CODE + code.length, 0, 0);
        }
        return vectors;
    }

    @Test
    void finishException_keepsTheSecondFaultAPlainPageFault() {
        assertEquals(List.of(ExceptionVector.PF, ExceptionVector.PF), vectorsOfTwoDemandFaults(true));
    }

    @Test
    void withoutFinishException_theSecondFaultEscalatesToDoubleFault() {
        // Unicorn's issue 1883, which finishException works around; if this starts failing, upstream fixed it.
        assertEquals(List.of(ExceptionVector.PF, ExceptionVector.DF), vectorsOfTwoDemandFaults(false));
    }

    private static int errorCodeOfFaultAt(long start, byte[] code) {
        int[] errorCode = {-1};
        try (Unicorn uc = pagedEngine(code)) {
            uc.hookInterrupt((engine, vector) -> {
                assertEquals(ExceptionVector.PF, vector);
                try (Context inside = engine.contextSave()) {
                    errorCode[0] = ExceptionState.get().errorCode(inside);
                }
                engine.stop();
            });
            uc.start(start, start + 0x100, 0, 1);
        }
        return errorCode[0];
    }

    @Test
    void errorCode_ofAFetchFromANotPresentPage_isInstructionFetchOnly() {
        assertEquals(0x10, errorCodeOfFaultAt(FIRST_MISSING, new byte[]{(byte) 0x90}));
    }

    @Test
    void errorCode_ofAWriteThroughAReservedBit_isPresentWriteReserved() {
        // mov [RESERVED_BIT], eax: neither value is one the calibration used
        byte[] code = {(byte) 0x89, 0x04, 0x25, 0, 0x60, 1, 0};
        assertEquals(0x1 | 0x2 | 0x8, errorCodeOfFaultAt(CODE, code));
    }
}
