package com.example.kernel;

import dev.kemu.debug.FaultPolicy;
import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import dev.kemu.testing.KemuKernel;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Regression tests of our kernel (build/kernel.elf, built by `make`), each from a snapshot at kernel_main. */
@ExtendWith(KemuExtension.class)
@KemuKernel(image = "build/kernel.elf", snapshotAt = "kernel_main")
class KernelTest {
    @Test
    void kernelAdd_addsItsArguments(Guest guest) {
        GuestRun run = guest.set(X86Reg.RDI, 2).set(X86Reg.RSI, 3).run("call kernel_add");
        assertTrue(run.completed(), run.describe());
        assertEquals(5, run.rax());
    }

    @Test
    void pageFaultHandler_recordsTheFaultingAddress(Guest guest) {
        GuestRun run = guest.onFault(FaultPolicy.DELIVER).run("""
                    lea rax, [rip + 1f]
                    mov [rip + pf_resume], rax
                    mov rcx, 0x40000000
                    mov rax, [rcx]
                1:
                    mov rax, [rip + pf_address]
                """);
        assertTrue(run.completed(), run.describe());
        assertEquals(0x40000000L, run.rax());
    }
}
