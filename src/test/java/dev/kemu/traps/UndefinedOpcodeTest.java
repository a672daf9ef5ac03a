package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.debug.FaultReport;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
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
    private static final String UD_TWICE = """
                lea rdi, [rip + idt]
                lea rax, [rip + ud_handler]
                mov word ptr [rdi + 6 * 16], ax
                mov word ptr [rdi + 6 * 16 + 2], 0x08
                mov word ptr [rdi + 6 * 16 + 4], 0x8E00
                shr rax, 16
                mov word ptr [rdi + 6 * 16 + 6], ax
                shr rax, 16
                mov dword ptr [rdi + 6 * 16 + 8], eax
                lidt [rip + idtr]
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
            .section .data
            .align 16
            idtr:
                .word 256 * 16 - 1
                .quad idt
            .section .bss
            .align 16
            idt: .skip 256 * 16
            """;

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
                """, BootOptions.defaults());
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
        assertEquals(ExceptionVector.UD, report.run().vector());
        assertEquals(1, report.faults().size(), "the #UD reached the trap router and got a report");
        FaultReport fault = report.faults().getFirst();
        assertEquals(ExceptionVector.UD, fault.vector());
        assertEquals("kmain+0x1", fault.ripSymbol());
        assertTrue(fault.disassembly().getFirst().contains("ud2"), fault.disassembly().toString());
        assertTrue(fault.outcome().contains("--on-fault=report"), fault.outcome());
    }
}
