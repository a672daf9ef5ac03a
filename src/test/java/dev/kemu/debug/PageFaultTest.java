package dev.kemu.debug;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.StopReason;
import dev.kemu.testutil.GuestTraps;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Crafted guest programs, one per kind of fault, each checked through the fault report's fields. */
class PageFaultTest {
    @TempDir
    Path dir;

    /** kmain prologue: set the memory services up (rdi = boot info on entry). */
    private static final String MM_INIT = """
                push rdi
                movabs rsi, offset kernel_phys_start
                movabs rdx, offset kernel_phys_end
                HYPERCALL HC_MM_INIT
                pop rdi
            """;
    private static final String EXIT = """
                xor eax, eax
                out EXIT_PORT, al
                ret
            """;

    private BootReport run(String body, BootOptions options) {
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, MM_INIT + body), options)) {
            return boot.run();
        }
    }

    private BootReport run(String body) {
        return run(body, BootOptions.defaults());
    }

    private static FaultReport onlyFault(BootReport report) {
        assertEquals(1, report.faults().size(), report.faults().toString());
        return report.faults().getFirst();
    }

    @Test
    void notPresentRead_reportsAddressAccessWalkStopAndCode() throws Exception {
        BootReport report = run("""
                    movabs rax, 0x0000123400000008
                    mov rbx, qword ptr [rax]
                """ + EXIT, BootOptions.defaults().withBlockTrace(16));
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason());
        FaultReport fault = onlyFault(report);
        assertEquals(ExceptionVector.PF, fault.vector());
        assertEquals("0x123400000008", fault.address());
        assertEquals("read", fault.access());
        assertEquals("supervisor", fault.mode());
        assertEquals(0, fault.errorCode());
        assertTrue(fault.errorBits().contains("not present"));
        assertTrue(fault.reason().startsWith("PML4 entry 36 not present (entry at P0x"), fault.reason());
        assertEquals(1, fault.walk().levels().size());
        assertTrue(fault.ripSymbol().startsWith("kmain+0x"), fault.ripSymbol());
        assertTrue(fault.disassembly().getFirst().matches("=> kmain\\+0x\\p{XDigit}+ +mov rbx, qword ptr \\[rax\\]"),
                fault.disassembly().toString());
        assertEquals("0x123400000008", fault.registers().get("rax"));
        assertTrue(fault.recentBlocks().stream().anyMatch(b -> b.contains("kmain")), fault.recentBlocks().toString());
        assertTrue(fault.outcome().startsWith("guest stopped"), fault.outcome());
        JsonNode json = new ObjectMapper().readTree(fault.json());
        assertEquals("0x123400000008", json.get("address").asText());
        assertEquals("PML4", json.get("walk").get("levels").get(0).get("table").asText());
        assertTrue(fault.text().contains("page walk of V0x123400000008"), fault.text());
    }

    @Test
    void missingPdptEntry_isNamedInTheReason() {
        // The direct map's PDPT (PML4 slot 256) has only entry 0 for 64 MiB of RAM. (The low
        // identity map that once made 0x40000000 such an address is gone after the boot.)
        FaultReport fault = onlyFault(run("""
                    movabs rax, 0xffff800040000000
                    mov rbx, qword ptr [rax]
                """ + EXIT));
        assertTrue(fault.reason().startsWith("PDPT entry 1 not present"), fault.reason());
        assertEquals(2, fault.walk().levels().size());
    }

    @Test
    void writeToReadOnlyPage_namesThePteWithoutW() {
        FaultReport fault = onlyFault(run("""
                    xor edi, edi
                    mov esi, ALLOC_ZERO
                    HYPERCALL HC_FRAME_ALLOC
                    mov rsi, rax
                    movabs rdi, 0xffffc80000000000
                    xor edx, edx                       # present, read-only, supervisor
                    HYPERCALL HC_VMMAP
                    movabs rax, 0xffffc80000000010
                    mov qword ptr [rax], 1
                """ + EXIT));
        assertEquals("write", fault.access());
        assertEquals(0x3, fault.errorCode());
        assertTrue(fault.reason().startsWith("write to a read-only page with CR0.WP set: W clear in the PT entry 0 (at P0x"),
                fault.reason());
        assertEquals(4, fault.walk().levels().size());
        assertTrue(fault.walk().physical() != null);
    }

    @Test
    void fetchFromNoExecutePage_namesTheNxEntry() {
        FaultReport fault = onlyFault(run("""
                    mov edi, 4096
                    HYPERCALL HC_VMALLOC                # writable, no-execute
                    mov byte ptr [rax], 0xC3            # ret
                    call rax
                """ + EXIT));
        assertEquals("instruction fetch", fault.access());
        assertEquals(0x11, fault.errorCode());
        assertTrue(fault.reason().startsWith("instruction fetch from a no-execute page: NX set in the PT entry"),
                fault.reason());
        assertEquals("0xffffc90000000000", fault.address());
        assertTrue(fault.vmas().containing().contains("vmalloc"), fault.vmas().toString());
    }

    @Test
    void userAccessToSupervisorPage_fromRing3() {
        FaultReport fault = onlyFault(run("""
                    lgdt [rip + user_gdtr]
                """ + GuestTraps.userPage(1) + GuestTraps.ENTER_RING3 + """
                .section .rodata
                user_code:
                    .byte 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x80  # mov rax, [0xffffffff80000000]
                """ + GuestTraps.RING3_DATA));
        assertEquals("user", fault.mode());
        assertEquals(0x5, fault.errorCode());
        assertTrue(fault.reason().startsWith("user-mode access to a supervisor page: U clear in the PML4 entry"),
                fault.reason());
        assertEquals("0x23", fault.registers().get("cs"));
    }

    @Test
    void nonCanonicalAddress_isAGeneralProtectionFaultWithTheAddress() {
        BootReport report = run("""
                    movabs rax, 0x0000800000000000
                    mov rbx, qword ptr [rax + 0x10]
                """ + EXIT);
        FaultReport fault = onlyFault(report);
        assertEquals(ExceptionVector.GP, fault.vector());
        assertEquals("0x800000000010", fault.address());
        assertTrue(fault.reason().startsWith("non-canonical address 0x800000000010"), fault.reason());
        assertEquals(null, fault.walk());
        assertTrue(report.failure().orElseThrow().contains("non-canonical"), report.failure().get());
    }

    @Test
    void guardPageAfterVmalloc_isAFaultNamingTheGuard() {
        FaultReport fault = onlyFault(run("""
                    mov edi, 4096
                    HYPERCALL HC_VMALLOC
                    mov qword ptr [rax + 4088], 1      # last word of the area: fine
                    mov qword ptr [rax + 4096], 1      # one past: the guard page
                """ + EXIT));
        assertEquals("0xffffc90000001000", fault.address());
        assertTrue(fault.reason().startsWith("guard page 0xffffc90000001000 hit: PT entry 1 not present"), fault.reason());
        assertTrue(fault.vmas().containing().contains("guard"), fault.vmas().toString());
    }

    @Test
    void thousandDemandPagedFaults_allArriveAsPageFaults_andEachGetsAZeroedPage() {
        BootReport report = run("""
                    mov edi, 1000 * 4096
                    mov esi, PTE_WRITABLE
                    HYPERCALL HC_VMA_RESERVE
                    mov r12, rax
                    xor ecx, ecx
                    xor r13, r13
                1:  mov rdx, rcx
                    shl rdx, 12
                    add r13, [r12 + rdx + 8]           # reads zero: a fresh page
                    mov [r12 + rdx], rcx               # first write maps it... no, the read did
                    inc ecx
                    cmp ecx, 1000
                    jne 1b
                    xor ecx, ecx
                    xor r14, r14
                2:  mov rdx, rcx
                    shl rdx, 12
                    add r14, [r12 + rdx]               # sum of 0..999 written above
                    inc ecx
                    cmp ecx, 1000
                    jne 2b
                    mov rdi, r12
                    HYPERCALL HC_VMA_RELEASE
                    mov r15, rax
                """ + EXIT);
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
        assertEquals(1000, report.demandPagedFaults());
        assertEquals(List.of(), report.faults());
        assertEquals(0, report.run().cpu().gprs()[13], "fresh pages read as zero");
        assertEquals(999L * 1000 / 2, report.run().cpu().gprs()[14]);
        assertEquals(0, report.run().cpu().gprs()[15], "release succeeded");
    }

    private static final String IDT_SETUP = GuestTraps.gate(ExceptionVector.PF, "pf_handler");
    private static final String IDT_DATA = GuestTraps.IDT_DATA + """
            .section .data
            pf_count: .quad 0
            first_cr2: .quad 0
            second_cr2: .quad 0
            """;

    @Test
    void deliver_runsTheGuestHandler_evenForAFaultInsideIt_andIretqReturns() {
        BootReport report = run(IDT_SETUP + """
                    movabs rax, 0x0000100000000000
                    mov rbx, qword ptr [rax]           # 3 bytes: the handler skips it
                    mov r12, [rip + pf_count]
                    mov r13, [rip + first_cr2]
                    mov r14, [rip + second_cr2]
                """ + EXIT + """
                pf_handler:
                    push rax
                    push rcx
                    mov rcx, [rip + pf_count]
                    inc rcx
                    mov [rip + pf_count], rcx
                    mov rax, cr2
                    cmp rcx, 1
                    jne 3f
                    mov [rip + first_cr2], rax
                    movabs rax, 0x0000200000000000
                    mov rax, qword ptr [rax]           # a fault inside the #PF handler (3 bytes)
                    jmp 4f
                3:  mov [rip + second_cr2], rax
                4:  add qword ptr [rsp + 24], 3        # skip the faulting instruction
                    pop rcx
                    pop rax
                    add rsp, 8                         # drop the error code
                    iretq
                """ + IDT_DATA, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
        var gprs = report.run().cpu().gprs();
        assertEquals(2, gprs[12], "the handler ran twice");
        assertEquals(0x0000100000000000L, gprs[13]);
        assertEquals(0x0000200000000000L, gprs[14], "the nested fault got its own CR2");
        assertEquals(2, report.faults().size());
        assertTrue(report.faults().stream().allMatch(f -> f.outcome().startsWith("delivered")), report.faults().toString());
        assertTrue(report.faults().get(1).ripSymbol().startsWith("pf_handler+0x"), report.faults().get(1).ripSymbol());
    }

    @Test
    void deliver_throughAnIstGate_switchesToTheTssStack() {
        BootReport report = run(IDT_SETUP + """
                    # A TSS whose IST1 is a separate stack, described in a new GDT (16-byte system descriptor).
                    lea rax, [rip + ist_stack_top]
                    mov [rip + tss + 0x24], rax
                """ + GuestTraps.TSS_DESCRIPTOR + """
                    lgdt [rip + ist_gdtr]
                    mov ax, 0x18
                    ltr ax
                    lea rdi, [rip + idt]
                    mov byte ptr [rdi + 14 * 16 + 4], 1            # the #PF gate uses IST1
                    mov r15, rsp
                    movabs rax, 0x0000100000000000
                    mov rbx, qword ptr [rax]
                    mov r12, [rip + handler_rsp]
                    lea r13, [rip + ist_stack_top]
                    mov r14, [rip + pushed_rsp]
                """ + EXIT + """
                pf_handler:
                    mov [rip + handler_rsp], rsp
                    mov rax, [rsp + 32]                            # RSP of the interrupted code
                    mov [rip + pushed_rsp], rax
                    add qword ptr [rsp + 8], 3
                    add rsp, 8
                    iretq
                .section .data
                .align 16
                ist_gdt:
                    .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
                gdt_tss:
                    .quad 0, 0
                ist_gdtr:
                    .word 5 * 8 - 1
                    .quad ist_gdt
                handler_rsp: .quad 0
                pushed_rsp: .quad 0
                .align 16
                tss: .skip 0x68
                .section .bss
                .align 16
                ist_stack: .skip 4096
                ist_stack_top:
                """ + IDT_DATA, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        assertEquals(StopReason.EXIT_PORT, report.run().reason(), report.run().detail() + report.faults());
        var gprs = report.run().cpu().gprs();
        assertEquals(gprs[13] - 48, gprs[12], "handler entered on IST1 with a six-word frame (error code included)");
        assertEquals(gprs[15], gprs[14], "the frame holds the interrupted RSP");
    }

    @Test
    void deliver_fromRing3_switchesToRsp0AndKernelMode_andIretqReturnsToUserMode() {
        BootReport report = run(IDT_SETUP + GuestTraps.RING0_STACK_FOR_RING3 + GuestTraps.userPage(3)
                + GuestTraps.ENTER_RING3 + """
                pf_handler:
                    mov r12, [rsp + 16]                            # CS of the interrupted code
                    mov r13, rsp                                   # where the frame landed
                    mov r14, cs                                    # the handler's own CS
                    add qword ptr [rsp + 8], 8                     # skip the 8-byte faulting mov
                    add rsp, 8
                    iretq
                .section .rodata
                user_code:
                    .byte 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x80  # mov rax, [0xffffffff80000000]
                    mov r15, 0x77                                  # back in ring 3 after the handler
                    ud2
                    .byte 0, 0, 0, 0, 0, 0, 0                      # pad the copy to 24 bytes
                """ + GuestTraps.RING3_DATA + IDT_DATA, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        var cpu = report.run().cpu();
        assertEquals(ExceptionVector.UD, report.run().vector(), report.run().detail() + report.faults());
        assertEquals(0x23, cpu.cs(), "stopped at the ud2, back in ring 3");
        assertEquals(0x77, cpu.gprs()[15], "user code continued after the handler returned");
        assertEquals(0x23, cpu.gprs()[12], "the frame holds the user CS");
        assertEquals(0x08, cpu.gprs()[14], "the handler ran with the kernel's CS");
        assertTrue(report.faults().getFirst().outcome().startsWith("delivered"), report.faults().toString());
        assertEquals("user", report.faults().getFirst().mode());
    }

    @Test
    void guestFaultingForever_keepsAtMostTheCappedNumberOfReports_andEndsAtItsBudget() {
        BootReport report;
        try (KernelBoot boot = new KernelBoot(TestKernels.withKmain(dir, MM_INIT + IDT_SETUP + """
                    movabs rax, 0x0000100000000000
                    mov rbx, qword ptr [rax]
                """ + EXIT + """
                pf_handler:
                    add rsp, 8
                    iretq                                          # returns to the same fault, forever
                """ + IDT_DATA), BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER).withBudget(200_000))) {
            report = boot.run();
            assertTrue(boot.faults().droppedReports() > 0, "the loop went past the cap");
        }
        assertEquals(StopReason.BUDGET_EXHAUSTED, report.run().reason());
        assertEquals(FaultLog.MAX_REPORTS, report.faults().size());
    }

    @Test
    void deliver_withoutAnIdt_isATripleFault() {
        BootReport report = run("""
                    movabs rax, 0x0000100000000000
                    mov rbx, qword ptr [rax]
                """ + EXIT, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        assertEquals(StopReason.UNHANDLED_EXCEPTION, report.run().reason());
        assertTrue(onlyFault(report).outcome().startsWith("triple fault: the IDT (limit 0x0) has no gate for vector 14"),
                onlyFault(report).outcome());
        assertTrue(report.failure().orElseThrow().startsWith("triple fault in stage 'kmain'"), report.failure().get());
    }

    @Test
    void deliver_withUnwritableStack_escalatesToDoubleFaultHandlerAbsence_tripleFault() {
        BootReport report = run(IDT_SETUP + """
                    movabs rsp, 0x0000300000000000     # an unmapped stack: the frame cannot be pushed
                    movabs rax, 0x0000100000000000
                    mov rbx, qword ptr [rax]
                """ + EXIT + """
                pf_handler:
                    iretq
                """ + IDT_DATA, BootOptions.defaults().withFaultPolicy(FaultPolicy.DELIVER));
        FaultReport fault = onlyFault(report);
        assertTrue(fault.outcome().startsWith("triple fault: the exception frame cannot be pushed"), fault.outcome());
        assertFalse(report.succeeded());
    }
}
