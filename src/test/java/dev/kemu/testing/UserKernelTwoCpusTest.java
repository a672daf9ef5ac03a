package dev.kemu.testing;

import dev.kemu.machine.smp.CpuState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code @KemuKernel(cpus = 2)}: the kernel under test runs on a two-CPU machine, and CPUID and fw_cfg say so. */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = UserKernel.IMAGE, cpus = 2)
class UserKernelTwoCpusTest {
    @BeforeAll
    static void buildKernel() {
        UserKernel.build();
    }

    @Test
    void theBootstrapCpu_countsTwoCpus_inCpuidAndFwCfg(Guest guest) {
        GuestRun cpuid = guest.run("""
                    mov eax, 1
                    cpuid
                    mov eax, ebx
                    shr eax, 16
                    and eax, 0xff
                """);
        assertEquals(2, cpuid.rax(), "CPUID.1:EBX[23:16] " + cpuid.describe());
        GuestRun fwCfg = guest.run("""
                    mov dx, 0x510
                    mov ax, 5
                    out dx, ax
                    mov dx, 0x511
                    in al, dx
                    movzx eax, al
                """);
        assertEquals(2, fwCfg.rax(), "fw_cfg NB_CPUS " + fwCfg.describe());
        assertEquals(CpuState.WAIT_FOR_STARTUP, guest.machine().boot().cpus().state(1), "cpu1 waits for INIT and STARTUP");
    }
}
