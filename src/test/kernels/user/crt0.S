/* Entry of the ring-3 test programs: main() in, its return value out through the exit syscall. The
 * kernel starts a program with RSP at the top of its stack VMA, 16-byte aligned, no arguments. */
.set SYS_EXIT, 60

.section .text
.code64
.global _start
_start:
    xor %ebp, %ebp                      /* the outermost frame, for backtraces */
    call main
    mov %eax, %edi
    mov $SYS_EXIT, %eax
    syscall
1:  jmp 1b                              /* exit does not return */
