/* Long-mode exception entry stubs (vectors 0-31) and the instructions that fault on purpose. */
.section .text
.code64

.macro STUB vector
    .global isr\vector
isr\vector:
    .if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    push $0                             /* no error code: keep the frame's shape */
    .endif
    push $\vector
    jmp isr_common
.endm

.altmacro
.set vector, 0
.rept 32
    STUB %vector
    .set vector, vector + 1
.endr

/* Frame for exception_handler: the caller-saved registers, vector, error code, then the CPU's
 * frame. The CPU aligned RSP to 16 before its five pushes; 5 + 2 + 9 pushes keep it aligned. */
isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rdi
    cld
    call exception_handler
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp                       /* vector and error code */
    iretq

.section .rodata
.align 8
.global isr_table
.macro TABLE_ENTRY vector
    .quad isr\vector
.endm
isr_table:
.set vector, 0
.rept 32
    TABLE_ENTRY %vector
    .set vector, vector + 1
.endr

.section .text
.global invalid_opcode, invalid_opcode_site, invalid_opcode_resume
invalid_opcode:
invalid_opcode_site:
    ud2                                 /* #UD: the handler resumes after it */
invalid_opcode_resume:
    ret
