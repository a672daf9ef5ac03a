/* Protected-mode exception entry stubs (vectors 0-31) and the instructions that fault on purpose. */
#include "isr_stubs.h"
.section .text
.code32

ISR_STUBS isr_common

/* Frame for exception_handler: edi..eax (pusha), vector, error code, then what the CPU pushed. */
isr_common:
    pusha
    push %esp
    cld
    call exception_handler
    add $4, %esp
    popa
    add $8, %esp                        /* vector and error code */
    iret

.section .rodata
.align 4
ISR_TABLE .long

.section .text
/* Each fault site is a function; its handler resumes at the matching *_resume label. */
.global divide_by_zero, divide_site, divide_resume
divide_by_zero:
    xor %edx, %edx
    mov $1, %eax
    xor %ecx, %ecx
divide_site:
    div %ecx                            /* #DE, a fault: EIP stays here */
divide_resume:
    ret

.global breakpoint, breakpoint_resume
breakpoint:
    int3                                /* #BP, a trap: EIP is the next instruction */
breakpoint_resume:
    ret

.global load_bad_selector, bad_selector_site, bad_selector_resume
load_bad_selector:
    mov $0x0ff0, %eax                   /* GDT index 0x1fe, far past the GDT's three entries */
bad_selector_site:
    mov %ax, %ds                        /* #GP with error code 0x0ff0 (the selector) */
bad_selector_resume:
    ret
