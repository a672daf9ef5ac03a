/* Trap and system-call entry of process64: every way into the kernel builds one frame (struct
 * frame in process64.c) on the kernel stack, the C code may replace it with another process's
 * saved frame, and return_to_user leaves into whatever frame is there: with sysretq when the frame
 * is one a syscall made (RCX = RIP and R11 = RFLAGS, which is all sysretq restores), otherwise
 * (a process's first entry) with iretq. */
#include "isr_stubs.h"
.set USER_CS, 0x23
.set USER_SS, 0x1b
.set SYSCALL_VECTOR, 0x80               /* the frame's vector for a syscall (not an IDT vector) */

.set FRAME_R11, 4 * 8                 /* offsets in struct frame */
.set FRAME_RCX, 12 * 8
.set FRAME_VECTOR, 15 * 8
.set FRAME_RIP, 17 * 8
.set FRAME_RFLAGS, 19 * 8
.set FRAME_RSP, 20 * 8

.macro POP_REGISTERS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

.section .text
.code64

ISR_STUBS trap_common

/* syscall: RCX = user RIP, R11 = user RFLAGS, still on the user stack (IF masked by FMASK). The
 * frame gets what an interrupt from ring 3 would have pushed, so both leave through iretq. */
.global syscall_entry
syscall_entry:
    mov %rsp, user_rsp(%rip)
    lea kernel_stack_top(%rip), %rsp
    push $USER_SS
    push user_rsp(%rip)
    push %r11
    push $USER_CS
    push %rcx
    push $0
    push $SYSCALL_VECTOR
    jmp trap_common

/* 5 (CPU or syscall_entry) + 2 + 15 pushes: RSP stays 16-byte aligned for the call. */
trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call trap
return_to_user:
    cmpq $SYSCALL_VECTOR, FRAME_VECTOR(%rsp)
    jne 1f
    mov FRAME_RCX(%rsp), %rax
    cmp FRAME_RIP(%rsp), %rax
    jne 1f
    mov FRAME_R11(%rsp), %rax
    cmp FRAME_RFLAGS(%rsp), %rax
    jne 1f
    POP_REGISTERS
    incq sysret_returns(%rip)           /* counted for the kernel's last line */
    mov FRAME_RSP - FRAME_VECTOR(%rsp), %rsp /* the user stack; IF stays clear until sysretq */
    sysretq
1:  POP_REGISTERS
    incq iret_returns(%rip)
    add $16, %rsp                       /* vector and error code */
    iretq

/* resume(frame): leaves the kernel into the frame at RDI (at the top of the kernel stack). */
.global resume
resume:
    mov %rdi, %rsp
    jmp return_to_user

.section .rodata
.align 8
ISR_TABLE .quad

.section .bss
.align 16
.global kernel_stack_top
kernel_stack:   .skip 16384
kernel_stack_top:
user_rsp:       .skip 8
.global sysret_returns, iret_returns
sysret_returns: .skip 8
iret_returns:   .skip 8
