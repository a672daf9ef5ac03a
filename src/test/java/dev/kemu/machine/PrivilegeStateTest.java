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
        uc.memMap(0, 0x20000, Prot.ALL);
        Calibration.write64(uc, PML4, PDPT | 7);
        Calibration.write64(uc, PDPT, PD | 7);
        Calibration.write64(uc, PD, PT | 7);
        Calibration.write64(uc, PT + 8 * (KERNEL_CODE >> 12), KERNEL_CODE | 1);
        Calibration.write64(uc, PT + 8 * (SUPERVISOR_DATA >> 12), SUPERVISOR_DATA | 1);
        Calibration.write64(uc, PT + 8 * (KERNEL_STACK >> 12), KERNEL_STACK | 3);
        Calibration.write64(uc, PT + 8 * (USER_PAGE >> 12), USER_PAGE | 7);
        Calibration.write64(uc, PT + 8 * (GDT >> 12), GDT | 3);
        for (int i = 0; i < FlatSegments.GDT.length; i++) {
            Calibration.write64(uc, GDT + 8L * i, FlatSegments.GDT[i]);
        }
        uc.memWrite(GDT + 0x100, FlatSegments.gdtr(GDT));
        Calibration.write64(uc, SUPERVISOR_DATA, SECRET);
        uc.memWrite(KERNEL_CODE, FlatSegments.concat(FlatSegments.loadKernelSegments(GDT + 0x100),
                new byte[]{(byte) 0xCC},                                        // int3: kernel-mode context
                FlatSegments.iretToUser(USER_PAGE, USER_PAGE + 0xff0)));
        uc.memWrite(KERNEL_CHECK, new byte[]{
                (byte) 0x8B, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, // mov eax, [SUPERVISOR_DATA]
                (byte) 0x8C, (byte) 0xCB});                     // mov ebx, cs
        uc.memWrite(USER_PAGE, new byte[]{0x48, (byte) 0x8B, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00}); // mov rax, [0x11000]
        uc.regWrite(X86Reg.CR3, PML4);
        uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
        uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
        uc.regWrite(X86Reg.RSP, KERNEL_STACK + 0x800);
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
