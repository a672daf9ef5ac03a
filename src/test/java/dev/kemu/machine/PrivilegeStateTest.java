package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The calibrated privilege switch does what delivery relies on: a fault taken in ring 3,
 * switched with {@link PrivilegeState#enterKernelMode}, runs on in ring 0 with the kernel CS.
 */
class PrivilegeStateTest {
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000, KERNEL_CODE = 0x10000,
            SUPERVISOR_DATA = 0x11000, KERNEL_STACK = 0x14000, USER_PAGE = 0x15000, GDT = 0x16000;
    private static final long KERNEL_CHECK = KERNEL_CODE + 0x100, KERNEL_CHECK_END = KERNEL_CHECK + 9;
    private static final int SECRET = 0x5eC0de;

    @Test
    void calibration_findsTheSegmentCachesAndHflags() {
        assertDoesNotThrow(PrivilegeState::get);
    }

    /**
     * Kernel code loads a GDT (0x08 kernel code, 0x10 kernel data, 0x1b user data, 0x23 user
     * code), stops at an int3 in kernel mode, then irets to ring 3, where a read of a
     * supervisor page faults. KERNEL_CHECK reads that page and CS: only ring 0 may.
     */
    private static Unicorn machineWithARing3Fault() {
        Unicorn uc = Unicorn.openX86_64();
        PrivilegeState.buildRing3Fault(uc);
        Calibration.write64(uc, SUPERVISOR_DATA, SECRET);
        uc.memWrite(KERNEL_CHECK, new byte[]{
                (byte) 0x8B, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, // mov eax, [SUPERVISOR_DATA]
                (byte) 0x8C, (byte) 0xCB});                     // mov ebx, cs
        return uc;
    }

    @Test
    void enterKernelMode_fromARing3Fault_runsOnInRing0WithTheKernelCodeSelector() {
        List<String> events = new ArrayList<>();
        try (Unicorn uc = machineWithARing3Fault(); Context scratch = uc.contextSave()) {
            Context[] kernelMode = new Context[1];
            long[] userCs = {-1};
            uc.hookInterrupt((engine, vector) -> {
                events.add(ExceptionVector.describe(vector));
                ExceptionState.get().finishException(engine, scratch);
                if (vector == ExceptionVector.BP) {
                    kernelMode[0] = engine.contextSave();
                    engine.stop();
                } else if (vector == ExceptionVector.PF && kernelMode[0] != null && userCs[0] < 0) {
                    userCs[0] = engine.regRead(X86Reg.CS);
                    PrivilegeState.get().enterKernelMode(engine, scratch, kernelMode[0]);
                    engine.regWrite(X86Reg.RIP, KERNEL_CHECK);
                } else {
                    engine.stop();
                }
            });
            uc.hookCode(KERNEL_CHECK_END, KERNEL_CHECK_END, (engine, address, size) -> engine.stop());
            uc.start(KERNEL_CODE, KERNEL_CODE + 0x1000, 0, 0);
            uc.start(KERNEL_CODE + 0x1B, KERNEL_CODE + 0x1000, 0, 0);
            try (Context kernel = kernelMode[0]) {
                assertEquals(0x08, PrivilegeState.get().codeSelector(kernel));
            }
            assertEquals(List.of(ExceptionVector.describe(ExceptionVector.BP), ExceptionVector.describe(ExceptionVector.PF)),
                    events, "the supervisor read at KERNEL_CHECK must not fault");
            assertEquals(0x23, userCs[0], "the fault was taken in ring 3");
            assertEquals(KERNEL_CHECK_END, uc.regRead(X86Reg.RIP));
            assertEquals(SECRET, uc.regRead(X86Reg.RAX), "a supervisor page is readable: CPL 0");
            assertEquals(0x08, uc.regRead(X86Reg.RBX), "CS as the guest reads it");
            assertEquals(0x08, uc.regRead(X86Reg.CS));
        }
    }
}
