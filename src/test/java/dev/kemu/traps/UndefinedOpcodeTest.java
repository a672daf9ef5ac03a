package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * #UD: Unicorn ends {@code uc_emu_start} with UC_ERR_INSN_INVALID instead of calling the
 * interrupt hook, so these check that it still reaches the trap router like every other vector.
 */
class UndefinedOpcodeTest {
    @TempDir
    Path dir;

    /** Installs {@code ud_handler} as the interrupt gate of vector 6, then executes two ud2. */
    private static final String UD_TWICE = GuestTraps.gate(ExceptionVector.UD, "ud_handler") + """
                xor r12, r12
                mov r14, rsp
                ud2
                mov r13, 0x55                      # runs after the handler skipped the first ud2
                ud2
                xor eax, eax
                out EXIT_PORT, al
                ret
            ud_handler:
                inc r12
                mov r15, [rsp]                     # the pushed RIP: the ud2 itself (a fault, not a trap)
                add qword ptr [rsp], 2             # skip it
                iretq
            """ + GuestTraps.IDT_DATA;

    private BootReport boot(String kmain, BootOptions options) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, kmain), options)) {
            return boot.run();
        }
    }

    @Test
    void ud2_withDeliverPolicy_runsTheGuestsUdHandler_andResumesAfterIretq() {
        BootReport report = boot(UD_TWICE, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
        var gprs = report.run().cpu().gprs();
        assertEquals(2, gprs[12], "the #UD handler ran once per ud2");
        assertEquals(0x55, gprs[13], "execution continued after the first ud2");
        assertEquals(gprs[14], report.run().cpu().rsp(), "iretq restored the stack");
        assertEquals(2, report.faults().size(), report.faults().toString());
        for (FaultReport fault : report.faults()) {
            assertEquals(ExceptionVector.UD, fault.vector());
            assertTrue(fault.outcome().startsWith("delivered"), fault.outcome());
            assertTrue(fault.ripSymbol().startsWith("kmain+0x"), fault.ripSymbol());
        }
        assertEquals(Long.parseUnsignedLong(report.faults().get(1).rip().substring(2), 16), gprs[15],
                "the handler saw the second ud2's address as the pushed RIP");
    }

    @Test
    void ud2_withReportPolicy_stopsWithAReportNamingTheOpcode() {
        BootReport report = boot("""
                    nop
                    ud2
                    ret
                """, BootOptions.defaults().withFaultPolicy(FaultPolicy.REPORT));
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
        assertEquals(ExceptionVector.UD, report.run().vector());
        assertEquals(1, report.faults().size(), "the #UD reached the trap router and got a report");
        FaultReport fault = report.faults().getFirst();
        assertEquals(ExceptionVector.UD, fault.vector());
        assertEquals("kmain+0x1", fault.ripSymbol());
        assertTrue(fault.disassembly().getFirst().contains("ud2"), fault.disassembly().toString());
        assertTrue(fault.outcome().contains("--on-fault=report"), fault.outcome());
    }

    @Test
    void ud2_inRing3_withDeliverPolicy_entersTheKernelHandler_andIretqReturnsToUserMode() {
        BootReport report = boot("""
                    push rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    pop rdi
                """ + GuestTraps.gate(ExceptionVector.UD, "ud_handler") + GuestTraps.RING0_STACK_FOR_RING3
                + GuestTraps.userPage(2) + """
                    xor r10, r10
                    xor r15, r15
                """ + GuestTraps.ENTER_RING3 + """
                ud_handler:
                    inc r10
                    cmp r10, 2
                    je 1f
                    mov r12, [rsp + 8]                             # CS of the interrupted code
                    mov r13, [rsp]                                 # its RIP: the ud2
                    mov r14, cs
                    add qword ptr [rsp], 2                         # skip the ud2
                    iretq
                1:  xor eax, eax                                   # second #UD: done
                    out EXIT_PORT, al
                .section .rodata
                user_code:
                    ud2
                    mov r15, 0x77                                  # back in ring 3 after the handler
                    ud2
                    .byte 0, 0, 0, 0, 0                            # pad the copy to 16 bytes
                """ + GuestTraps.RING3_DATA + GuestTraps.IDT_DATA, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
        var gprs = report.run().cpu().gprs();
        assertEquals(2, gprs[10], "the handler ran for both ud2");
        assertEquals(0x23, gprs[12], "the frame holds the user CS");
        assertEquals(0x0000008000000000L, gprs[13], "the frame holds the ud2's address");
        assertEquals(0x08, gprs[14], "the handler ran with the kernel's CS");
        assertEquals(0x77, gprs[15], "user code continued after iretq");
        assertEquals(0x08, report.run().cpu().cs(), "stopped in the handler, in kernel mode");
        assertTrue(report.faults().stream().allMatch(f -> f.outcome().startsWith("delivered")), report.faults().toString());
        assertEquals(2, report.faults().size(), report.faults().toString());
    }
}
