/* Long-mode exception entry stubs (vectors 0-31) and the instructions that fault on purpose. */
#include "isr_stubs.h"
.section .text
.code64

ISR_STUBS isr_common

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
ISR_TABLE .quad

.section .text
.global invalid_opcode, invalid_opcode_site, invalid_opcode_resume
invalid_opcode:
invalid_opcode_site:
    ud2                                 /* #UD: the handler resumes after it */
invalid_opcode_resume:
    ret
