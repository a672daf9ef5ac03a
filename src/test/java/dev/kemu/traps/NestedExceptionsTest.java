package dev.kemu.traps;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nesting as on hardware (SDM vol. 3A 6.15, table 6-5): a fault inside a handler is delivered
 * like any other; an exception raised while delivering one is delivered serially (after a
 * benign one) or as a #DF (a #PF or contributory one after a #PF or contributory one); one
 * raised while delivering the #DF is a triple fault, reported with its chain.
 */
class NestedExceptionsTest {
    @TempDir
    Path dir;

    /** A TSS with IST1 at ist1_top, and a GDT (kernel code 0x08, data 0x10, user 0x1b/0x23, TSS 0x28) loaded. */
    static final String TSS_SETUP = """
                lea rax, [rip + ist1_top]
                mov [rip + tss + 0x24], rax                    # IST1
                lea rax, [rip + rsp0_top]
                mov [rip + tss + 4], rax                       # RSP0
                lea rax, [rip + tss]
                mov word ptr [rip + gdt_tss], 0x67
                mov word ptr [rip + gdt_tss + 2], ax
                shr rax, 16
                mov byte ptr [rip + gdt_tss + 4], al
                mov byte ptr [rip + gdt_tss + 5], 0x89
                mov byte ptr [rip + gdt_tss + 7], ah
                shr rax, 16
                mov dword ptr [rip + gdt_tss + 8], eax
                lgdt [rip + own_gdtr]
                mov ax, 0x28
                ltr ax
            """;
    static final String TSS_DATA = """
            .section .data
            .align 16
            own_gdt:
                .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cff2000000ffff, 0x00affa000000ffff
            gdt_tss:
                .quad 0, 0
            own_gdtr:
                .word 7 * 8 - 1
                .quad own_gdt
            .align 16
            tss: .skip 0x68
            .section .bss
            .align 16
            ist1_stack: .skip 4096
            ist1_top:
            rsp0_stack: .skip 4096
            rsp0_top:
            """;


    @Test
    void faultInsideAHandler_isDeliveredToo_andBothHandlersReturn() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + """
                    SET_GATE 6, handler_6, 0x8E00, 0
                    SET_GATE 13, gp_handler, 0x8E00, 0
                    lidt [rip + idtr]
                    lea r15, [rip + log]
                    mov r12, rsp
                    movabs rax, 0x8000000000000000
                gp_site: mov rbx, [rax]                      # #GP, 3 bytes
                    mov r13, rsp                             # both handlers unwound
                    xor eax, eax
                    out EXIT_PORT, al
                gp_handler:
                inner_ud: ud2                                # #UD inside the #GP handler
                    mov r14, [rsp + 8]                       # the #GP frame's RIP, intact
                    add qword ptr [rsp + 8], 3
                    add rsp, 8
                    iretq
                    HANDLER 6, 0, 2
                """ + GuestIdt64.DATA), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            SymbolTable symbols = boot.symbols();
            GuestIdt64.Entry inner = GuestIdt64.log(boot.machine(), symbols.address("log"), 1).getFirst();
            assertEquals(List.of(6L, symbols.address("inner_ud")), List.of(inner.vector(), inner.rip()));
            long[] gprs = report.run().cpu().gprs();
            assertEquals(symbols.address("gp_site"), gprs[14]);
            assertEquals(gprs[12], gprs[13], "both iretq returned to the original stack");
            assertEquals(List.of("gp_site", "gp_handler"), report.faults().stream().map(f -> f.ripSymbol()).toList());
        }
    }

    @Test
    void pageFaultWhosFrameCannotBePushed_becomesADoubleFault_onItsIstStack_withCr2AtTheStack() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + TSS_SETUP + """
                    SET_GATE 14, pf_handler, 0x8E00, 0
                    SET_GATE 8, df_handler, 0x8E00, 1        # IST1
                    lidt [rip + idtr]
                    movabs rsp, 0x0000300000000000           # unmapped: the #PF frame cannot be pushed
                    movabs rax, 0x0000100000000000
                    mov rbx, [rax]
                pf_handler:
                    hlt                                      # never entered
                df_handler:
                    mov r13, [rsp]                           # #DF error code
                    mov r14, cr2                             # the push that faulted
                    mov r15, rsp
                    xor eax, eax
                    out EXIT_PORT, al
                """ + GuestIdt64.DATA + TSS_DATA), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            long[] gprs = report.run().cpu().gprs();
            assertEquals(0, gprs[13], "#DF pushes error code 0");
            assertEquals(0x0000300000000000L - 8, gprs[14], "CR2 names the first push (SS) of the #PF frame");
            assertEquals(boot.symbols().address("ist1_top") - 48, gprs[15], "six words on the IST1 stack");
            String outcome = report.faults().getFirst().outcome();
            assertTrue(outcome.startsWith("could not be delivered (the exception frame cannot be pushed: stack "
                    + "V0x2ffffffffff8 is not writable ("), outcome);
            assertTrue(outcome.endsWith("); delivered #DF instead"), outcome);
        }
    }

    @Test
    void benignExceptionWithANotPresentGate_raisesNp_whichIsDeliveredSerially() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + """
                    SET_GATE 6, handler_6, 0x0E00, 0         # interrupt gate, P clear
                    SET_GATE 11, handler_11, 0x8E00, 0
                    lidt [rip + idtr]
                    lea r15, [rip + log]
                ud_site: ud2
                    xor eax, eax
                    out EXIT_PORT, al
                handler_6:
                    hlt
                    HANDLER 11, 1, 2                         # returns after the ud2
                """ + GuestIdt64.DATA), BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER))) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            GuestIdt64.Entry np = GuestIdt64.log(boot.machine(), boot.symbols().address("log"), 1).getFirst();
            assertEquals(List.of(11L, 6L * 8 + 2, boot.symbols().address("ud_site")),
                    List.of(np.vector(), np.errorCode(), np.rip()), "#NP(IDT entry 6) at the ud2");
            assertTrue(report.faults().getFirst().outcome().endsWith("; delivered #NP instead"),
                    report.faults().getFirst().outcome());
        }
    }

    @Test
    void faultWhileDeliveringTheDoubleFault_isATripleFault_reportedWithTheChainInOrder() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + """
                    SET_GATE 14, pf_handler, 0x8E00, 0       # present, but its frame cannot be pushed; no #DF gate
                    lidt [rip + idtr]
                    movabs rsp, 0x0000300000000000
                    movabs rax, 0x0000100000000000
                pf_site: mov rbx, [rax]
                pf_handler:
                    hlt
                """ + GuestIdt64.DATA), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason(), report.run().detail());
            long rip = boot.symbols().address("pf_site");
            TripleFault triple = boot.faults().tripleFault().orElseThrow();
            assertEquals(List.of(
                    String.format("#PF (vector 14) at RIP 0x%x, error code 0x0, CR2 0x100000000000", rip),
                    String.format("#PF (vector 14) at RIP 0x%x, error code 0x2, CR2 0x2ffffffffff8", rip),
                    String.format("#DF (vector 8) at RIP 0x%x, error code 0x0", rip),
                    String.format("#GP (vector 13) at RIP 0x%x, error code 0x42", rip)),
                    triple.chain().stream().map(TripleFault.Step::toString).toList());
            assertEquals(List.of(14, 14, 8, 13), triple.chain().stream().map(TripleFault.Step::vector).toList());
            String outcome = report.faults().getFirst().outcome();
            assertTrue(outcome.startsWith("triple fault: the exception frame cannot be pushed"), outcome);
            assertTrue(outcome.endsWith("faults in order: " + triple), outcome);
            assertTrue(report.failure().orElseThrow().startsWith("triple fault in stage 'kmain'"), report.failure().get());
        }
    }

    @Test
    void ring3Fault_switchesToRsp0_withTheUserStackInTheFrame() {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, GuestIdt64.MACROS + """
                    push rdi
                    movabs rsi, offset kernel_phys_start
                    movabs rdx, offset kernel_phys_end
                    HYPERCALL HC_MM_INIT
                    pop rdi
                    SET_GATE 13, gp_handler, 0x8E00, 0
                    lidt [rip + idtr]
                """ + TSS_SETUP + """
                    xor edi, edi
                    mov esi, ALLOC_ZERO
                    HYPERCALL HC_FRAME_ALLOC
                    mov r12, rax
                    mov rsi, rax
                    movabs rdi, 0x0000008000000000
                    mov edx, PTE_WRITABLE | 4
                    HYPERCALL HC_VMMAP
                    mov edi, 2
                    HYPERCALL HC_MM_STAT
                    add rax, r12
                    mov byte ptr [rax], 0xF4                       # user code: hlt, #GP(0) at CPL 3
                    push 0x1b
                    movabs rax, 0x0000008000000ff0
                    push rax
                    push 0x2
                    push 0x23
                    movabs rax, 0x0000008000000000
                    push rax
                    iretq
                gp_handler:
                    mov r8, rsp
                    mov r9, [rsp]                                  # error code
                    mov r10, [rsp + 8]                             # RIP
                    mov r11, [rsp + 16]                            # CS
                    mov r12, [rsp + 32]                            # RSP
                    mov r13, [rsp + 40]                            # SS
                    mov r14, cs
                    xor eax, eax
                    out EXIT_PORT, al
                """ + GuestIdt64.DATA + TSS_DATA), BootOptions.defaults())) {
            BootReport report = boot.run();
            assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
            long[] gprs = report.run().cpu().gprs();
            assertEquals(boot.symbols().address("rsp0_top") - 48, gprs[8], "the frame is on the TSS's RSP0 stack");
            assertEquals(List.of(0L, 0x0000008000000000L, 0x23L, 0x0000008000000ff0L, 0x1bL, 0x08L),
                    List.of(gprs[9], gprs[10], gprs[11], gprs[12], gprs[13], gprs[14]));
            assertEquals("0x23", report.faults().getFirst().registers().get("cs"), "reported at CPL 3");
        }
    }
}
