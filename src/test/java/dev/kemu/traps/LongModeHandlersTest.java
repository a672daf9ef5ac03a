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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 64-bit kernel's own #DE, #BP, #UD, #GP and #PF handlers under the default policy
 * ({@code auto}): each runs, sees the frame the CPU pushes (error code, RIP) and returns with
 * {@code iretq}; interrupt gates clear IF, trap gates keep it.
 */
class LongModeHandlersTest {
    @TempDir
    Path dir;

    static final String FIVE_HANDLERS = GuestIdt64.MACROS + """
                SET_GATE 0, handler_0, 0x8E00, 0
                SET_GATE 3, handler_3, 0x8F00, 0             # trap gate: IF stays set
                SET_GATE 6, handler_6, 0x8E00, 0
                SET_GATE 13, handler_13, 0x8E00, 0
                SET_GATE 14, handler_14, 0x8E00, 0
                lidt [rip + idtr]
                lea r15, [rip + log]
                mov al, 0xff                                 # mask the PICs: on a PC (QEMU) the timer
                out 0x21, al                                 # would interrupt once IF is set
                out 0xa1, al
                sti
                xor ecx, ecx
            de_site: div ecx                                 # 2 bytes
                int3
            bp_next:
            ud_site: ud2                                     # 2 bytes
                movabs rax, 0x8000000000000000
            gp_site: mov rbx, [rax]                          # 3 bytes
                movabs rax, 0x0000100000000000
            pf_site: mov [rax], rbx                          # 3 bytes
                pushfq
                pop r14                                      # RFLAGS after the last iretq
                xor eax, eax
                out EXIT_PORT, al
                HANDLER 0, 0, 2
                HANDLER 3, 0, 0
                HANDLER 6, 0, 2
                HANDLER 13, 1, 3
                HANDLER 14, 1, 3
            """ + GuestIdt64.DATA;

    @Test
    void auto_runsEachHandler_withTheCpusFrame_andIretqReturnsToTheNextInstruction() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, FIVE_HANDLERS), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            var symbols = boot.symbols();
            List<GuestIdt64.Entry> log = GuestIdt64.log(boot.machine(), symbols.address("log"), 5);
            assertEquals(List.of(
                    List.of(0L, -1L, symbols.address("de_site")),
                    List.of(3L, -1L, symbols.address("bp_next")),       // int3 is a trap: the next instruction
                    List.of(6L, -1L, symbols.address("ud_site")),
                    List.of(13L, 0L, symbols.address("gp_site")),
                    List.of(14L, 2L, symbols.address("pf_site"))),
                    log.stream().map(e -> List.of(e.vector(), e.errorCode(), e.rip())).toList());
            assertEquals(0x0000100000000000L, log.get(4).cr2(), "CR2 inside the #PF handler");
            assertEquals(List.of(false, true, false, false, false),
                    log.stream().map(GuestIdt64.Entry::interruptsEnabled).toList(), "interrupt gates clear IF");
            assertTrue((report.run().cpu().gprs()[14] & GuestIdt64.Entry.RFLAGS_IF) != 0, "iretq restored IF");
            // What each handler saw equals what Unicorn reported to kemu.
            assertEquals(5, report.faults().size(), report.faults().toString());
            for (int i = 0; i < 5; i++) {
                FaultReport fault = report.faults().get(i);
                assertEquals(log.get(i).vector(), fault.vector());
                if (ExceptionVector.hasErrorCode(fault.vector())) {
                    assertEquals(log.get(i).errorCode(), fault.errorCode(), fault.toString());
                }
                assertEquals(log.get(i).rip(), Long.parseUnsignedLong(fault.rip().substring(2), 16));
                assertTrue(fault.outcome().startsWith("delivered to the guest's " + ExceptionVector.mnemonic(
                        fault.vector())), fault.outcome());
            }
        }
    }

    @Test
    void auto_withoutAGateForTheVector_stopsWithTheReport_likeReport() {
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + """
                    SET_GATE 6, ud_handler, 0x8E00, 0
                    lidt [rip + idtr]
                    movabs rax, 0x8000000000000000
                    mov rbx, [rax]                           # #GP: no gate 13
                    ret
                ud_handler:
                    iretq
                """ + GuestIdt64.DATA), BootOptions.defaults())) {
            report = boot.run();
        }
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
        assertEquals(ExceptionVector.GP, report.run().vector());
        FaultReport fault = report.faults().getFirst();
        assertEquals("guest stopped: the IDT gate for vector 13 is not a 64-bit interrupt or trap gate "
                + "(0x0000000000000000) (--on-fault=auto delivers only through a present gate)", fault.outcome());
        assertFalse(report.succeeded());
        assertTrue(report.failure().orElseThrow().contains("not delivered (--on-fault=auto)"), report.failure().get());
    }

    @Test
    void defaults_useAuto() {
        assertEquals(FaultPolicy.AUTO, BootOptions.defaults().onFault());
    }
}
