package dev.kemu.machine.exceptions;

import dev.kemu.machine.CpuException;
import dev.kemu.machine.ExceptionOutcome;
import dev.kemu.machine.ExceptionState;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How Unicorn reports each exception to kemu today (its interrupt hook, or UC_ERR_INSN_INVALID
 * for #UD, both turned into one {@link CpuException}), pinned per vector on a bare long-mode
 * machine with paging on. The facts the delivery code builds on:
 * <ul>
 * <li>Unicorn never uses the guest's IDT and pushes nothing: at the hook RSP is unchanged and
 * RIP is not at any handler.</li>
 * <li>Faults (#DE, #UD, #NM, #GP, #NP, #SS, #PF, #BR, #MF) report the faulting instruction;
 * traps ({@code int3}, {@code int n}, {@code into}, single-step #DB) the next one: in each case
 * the RIP the CPU pushes.</li>
 * <li>Error codes (read from the saved context, see {@code ExceptionState}) are the CPU's:
 * selector errors carry the selector, #PF the P/W/U/RSVD/I bits; a software {@code int 0x0d}
 * is told apart by the calibrated software-interrupt flag and has none.</li>
 * <li>Where Unicorn differs from hardware, pinned so that a new Unicorn that fixes it shows up:
 * {@code int1}/{@code icebp} is #UD (not #DB); a push to a non-canonical stack is #GP(0) (not
 * #SS(0)); an unmasked SSE exception raises no #XM and a misaligned access at CPL 3 with AM and
 * AC set no #AC (QEMU's TCG models neither); the second #PF after one that was not finished is
 * reported as #DF (Unicorn issue 1883, which {@code Machine.finishException} works around).</li>
 * </ul>
 * {@code into} and {@code bound} run in compatibility mode (32-bit code), where they are valid.
 */
class UnicornExceptionReportTest {
    private static final long CODE = 0x10000, STACK_TOP = 0x80000;
    private static final int NONE = -1;

    @TempDir
    Path dir;

    /** A guest snippet, what it raises, and where: the label of the RIP Unicorn reports. */
    record Case(String name, String code, int vector, String ripLabel, int errorCode) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("#DE div by zero", "xor ecx, ecx\nfault: div ecx", ExceptionVector.DE, "fault", NONE),
                new Case("#DB single step traps after the next instruction",
                        "pushfq\nor qword ptr [rsp], 0x100\npopfq\nnop\nafter: nop", ExceptionVector.DB, "after", NONE),
                new Case("#BP int3 traps after it", "fault: int3\nafter: nop", ExceptionVector.BP, "after", NONE),
                new Case("#BP int 3 (cd 03) traps after it", "fault: .byte 0xcd, 0x03\nafter: nop", ExceptionVector.BP,
                        "after", NONE),
                new Case("int 0x80 traps after it", "fault: int 0x80\nafter: nop", 0x80, "after", NONE),
                new Case("int 0x0d is vector 13 without an error code (a software interrupt pushes none)",
                        "fault: int 0x0d\nafter: nop", ExceptionVector.GP, "after", NONE),
                new Case("#OF into traps after it (compatibility mode)", compat("mov al, 0x7f\nadd al, 1\n"
                        + "fault: into\nafter: nop"), ExceptionVector.OF, "after", NONE),
                new Case("#BR bound faults at it (compatibility mode)", compat("mov eax, 5\n"
                        + "fault: bound eax, [bounds]\nnop"), ExceptionVector.BR, "fault", NONE),
                new Case("#UD ud2", "fault: ud2", ExceptionVector.UD, "fault", NONE),
                new Case("icebp (f1) is #UD, not #DB", "fault: .byte 0xf1", ExceptionVector.UD, "fault", NONE),
                new Case("into in 64-bit mode is #UD", "fault: .byte 0xce", ExceptionVector.UD, "fault", NONE),
                new Case("#NM fld1 with CR0.TS", "mov rax, cr0\nor rax, 8\nmov cr0, rax\nfault: fld1",
                        ExceptionVector.NM, "fault", NONE),
                new Case("#GP(0) non-canonical load", "movabs rax, 0x8000000000000000\nfault: mov rbx, [rax]",
                        ExceptionVector.GP, "fault", 0),
                new Case("#GP(selector) beyond the GDT limit", "mov ax, 0x1230\nfault: mov ds, ax",
                        ExceptionVector.GP, "fault", 0x1230),
                new Case("#NP(selector) not-present data segment", "mov ax, 0x20\nfault: mov ds, ax",
                        ExceptionVector.NP, "fault", 0x20),
                new Case("#SS(selector) not-present stack segment", "mov ax, 0x20\nfault: mov ss, ax",
                        ExceptionVector.SS, "fault", 0x20),
                new Case("non-canonical stack push is #GP(0), not #SS(0)", "movabs rsp, 0x8000000000000000\n"
                        + "fault: push rax", ExceptionVector.GP, "fault", 0),
                new Case("#PF not-present read", "mov eax, 0x300000\nfault: mov rbx, [rax]", ExceptionVector.PF,
                        "fault", 0x0),
                new Case("#PF not-present write", "mov eax, 0x300000\nfault: mov [rax], rbx", ExceptionVector.PF,
                        "fault", 0x2),
                new Case("#MF at the fwait after an unmasked x87 divide by zero", "mov rax, cr0\nor rax, 0x20\n"
                        + "and rax, ~0xc\nmov cr0, rax\nfninit\nfldcw [rip + cw]\nfldz\nfld1\nfdiv st, st(1)\n"
                        + "fault: fwait\nhlt\ncw: .word 0x037b", ExceptionVector.MF, "fault", NONE),
                new Case("no #XM for an unmasked SSE divide by zero", "mov rax, cr0\nand rax, ~0xc\nor rax, 2\n"
                        + "mov cr0, rax\nmov rax, cr4\nor rax, 0x600\nmov cr4, rax\nldmxcsr [rip + mxcsr]\n"
                        + "xorps xmm1, xmm1\nmov eax, 1\ncvtsi2ss xmm0, eax\ndivss xmm0, xmm1\nfault: hlt\n"
                        + "mxcsr: .long 0x1d80", NONE, "fault", NONE),
                new Case("no #AC for a misaligned load at CPL 3 with CR0.AM and RFLAGS.AC: the hlt after it is #GP",
                        "mov rax, cr0\nor rax, 0x40000\nmov cr0, rax\npush 0x2b\npush 0x70000\npush 0x40002\n"
                                + "push 0x33\nlea rax, [rip + user]\npush rax\niretq\n"
                                + "user: mov eax, [rip + word + 1]\nfault: hlt\n.align 8\nword: .quad 0",
                        ExceptionVector.GP, "fault", 0));
    }

    /** Far return to the 32-bit code segment 0x18, then {@code body} as 32-bit code. */
    private static String compat(String body) {
        return "push 0x18\nlea rax, [rip + compat]\npush rax\nretfq\n.code32\ncompat:\n" + body
                + "\nhlt\n.align 4\nbounds: .long 0, 3\n.code64";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void unicornReportsTheVectorRipAndErrorCode_andPushesNothing(Case c) {
        FlatCode code = FlatCode.assemble(dir, "pin", CODE, """
                .code64
                start:
                    lgdt [rip + gdtr]
                    mov ax, 0x10
                    mov ds, ax
                """ + c.code() + """

                    hlt
                .align 8
                gdt:
                    .quad 0
                    .quad 0x00af9a000000ffff    # 0x08 64-bit code
                    .quad 0x00cf92000000ffff    # 0x10 data
                    .quad 0x00cf9a000000ffff    # 0x18 32-bit code
                    .quad 0x00cf12000000ffff    # 0x20 data, not present
                    .quad 0x00cff2000000ffff    # 0x28 user data (0x2b)
                    .quad 0x00affa000000ffff    # 0x30 user 64-bit code (0x33)
                gdt_end:
                gdtr:
                    .word gdt_end - gdt - 1
                    .quad gdt
                """);
        try (Machine machine = pagedLongMode()) {
            code.load(machine);
            List<String> seen = new ArrayList<>();
            machine.setExceptionHandler((m, e) -> {
                seen.add(String.format("vector=%d rip=0x%x error=%s rsp=0x%x", e.vector(), e.rip(),
                        e.errorCode().isPresent() ? "0x" + Integer.toHexString(e.errorCode().getAsInt()) : "none",
                        m.register(X86Reg.RSP)));
                assertEquals(e.rip(), m.register(X86Reg.RIP), "the engine's RIP is the reported one, not a handler");
                return ExceptionOutcome.STOP;
            });
            RunResult result = machine.run(CODE, RunLimits.budget(10_000));
            if (c.vector() == NONE) {
                assertEquals(List.of(), seen, "no exception");
                assertEquals(StopReason.HALTED, result.reason(), result.detail());
                assertEquals(code.at(c.ripLabel()), result.cpu().rip() - 1, "stopped at the hlt");
                return;
            }
            long rsp = c.code().contains("movabs rsp") ? 0x8000000000000000L
                    : c.code().contains("iretq") ? 0x70000 : STACK_TOP;
            assertEquals(List.of(String.format("vector=%d rip=0x%x error=%s rsp=0x%x", c.vector(),
                    code.at(c.ripLabel()), c.errorCode() == NONE ? "none" : "0x" + Integer.toHexString(c.errorCode()),
                    rsp)), seen);
            assertEquals(StopReason.UNHANDLED_EXCEPTION, result.reason());
        }
    }

    @Test
    void calibration_findsTheSoftwareInterruptFlag_nextToTheErrorCode() {
        assertTrue(ExceptionState.get().knowsSoftwareInterrupts(),
                "exception_is_int not found right after error_code in this libunicorn's saved context");
    }

    @Test
    void pageFault_reportsCr2_andASecondUnfinishedPageFaultArrivesAsDoubleFault() {
        FlatCode code = FlatCode.assemble(dir, "pfpf", CODE, """
                .code64
                    mov eax, 0x300000
                first: mov rbx, [rax]
                second: mov rbx, [rax + 8]
                    hlt
                """);
        try (Machine machine = pagedLongMode()) {
            code.load(machine);
            List<String> seen = new ArrayList<>();
            machine.setExceptionHandler((m, e) -> {
                seen.add(String.format("vector=%d rip=0x%x cr2=0x%x", e.vector(), e.rip(), e.cr2()));
                if (seen.size() == 1) {
                    m.setRegister(X86Reg.RIP, code.at("second")); // resumed without finishException()
                    return ExceptionOutcome.RESUME;
                }
                return ExceptionOutcome.STOP;
            });
            machine.run(CODE, RunLimits.budget(1000));
            assertEquals(List.of(String.format("vector=14 rip=0x%x cr2=0x300000", code.at("first")),
                    String.format("vector=8 rip=0x%x cr2=0x0", code.at("second"))), seen);
        }
    }

    /** Identity-mapped 0..2 MiB (one user-accessible 2 MiB page), paging on in long mode, RSP at STACK_TOP. */
    static Machine pagedLongMode() {
        Machine machine = new Machine(4 << 20);
        machine.ram().write64(0x1000, 0x2000 | 7);
        machine.ram().write64(0x2000, 0x3000 | 7);
        machine.ram().write64(0x3000, 0x87);
        machine.setRegister(X86Reg.CR3, 0x1000);
        machine.setRegister(X86Reg.CR4, machine.register(X86Reg.CR4) | 0x20);
        machine.setRegister(X86Reg.CR0, machine.register(X86Reg.CR0) | 0x80000000L);
        machine.setRegister(X86Reg.RSP, STACK_TOP);
        return machine;
    }
}
