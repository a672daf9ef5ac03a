/* The part of the 32-bit kernels' entry that does not depend on the boot protocol: a GDT of their own
 * (a loader's GDTR is not to be trusted), flat segments, a stack, then kernel_main(magic, info) with
 * the loader's EAX and EBX, and a halt should it return. Included after the protocol's header. */
.section .text
.code32
.global _start
_start:
    cli
    mov $stack_top, %esp
    lgdt gdt_pointer
    ljmp $0x08, $reload_segments
reload_segments:
    mov $0x10, %cx
    mov %cx, %ds
    mov %cx, %es
    mov %cx, %fs
    mov %cx, %gs
    mov %cx, %ss
    push %ebx                           /* the boot information */
    push %eax                           /* the loader's magic */
    call kernel_main
halt:
    cli
    hlt
    jmp halt

.section .rodata
.align 8
.global gdt
gdt:
    .quad 0                             /* null */
    .quad 0x00cf9a000000ffff            /* 0x08: code, 4 GiB, ring 0 */
    .quad 0x00cf92000000ffff            /* 0x10: data, 4 GiB, ring 0 */
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .long gdt

.section .bss
.align 16
stack:
    .skip 16384
stack_top:
