/* Entry of the 64-bit higher-half test kernels, as OSDev kernels do it: a Multiboot 1 header,
 * 32-bit entry at the physical load address, page tables of their own (the first GiB mapped
 * twice, at 0 and at -2 GiB, with 2 MiB pages), PAE + EFER.LME + CR0.PG, a 64-bit GDT, a far jump
 * into long mode, then a jump to the higher half and kernel_main(magic, info). */
.set MB_MAGIC, 0x1badb002
.set MB_FLAGS, 0x3                      /* page-aligned modules, memory information */
.set KERNEL_VMA, 0xffffffff80000000
.set CR0_PE, 1 << 0
.set CR0_WP, 1 << 16                    /* ring 0 writes honour read-only pages, as Linux sets it */
.set CR0_PG, 1 << 31
.set CR4_PAE, 1 << 5
.set MSR_EFER, 0xc0000080
.set EFER_LME, 1 << 8
.set PAGE_PRESENT_WRITABLE, 0x3
.set PAGE_HUGE, 0x80

.section .multiboot, "a"
.align 4
.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

.section .boot.text, "ax"
.code32
.global _start
_start:
    cli
    mov $(boot_stack_top - KERNEL_VMA), %esp
    mov %eax, %edi                      /* the loader's magic and info: kernel_main's arguments */
    mov %ebx, %esi

    mov $0x80000000, %eax               /* does the CPU have long mode? */
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    mov $(boot_pdpt_low - KERNEL_VMA + PAGE_PRESENT_WRITABLE), %eax
    mov %eax, boot_pml4 - KERNEL_VMA
    mov $(boot_pdpt_high - KERNEL_VMA + PAGE_PRESENT_WRITABLE), %eax
    mov %eax, boot_pml4 - KERNEL_VMA + 511 * 8
    mov $(boot_pd - KERNEL_VMA + PAGE_PRESENT_WRITABLE), %eax
    mov %eax, boot_pdpt_low - KERNEL_VMA
    mov %eax, boot_pdpt_high - KERNEL_VMA + 510 * 8
    xor %ecx, %ecx                      /* boot_pd[i] = i * 2 MiB, huge */
1:  mov %ecx, %eax
    shl $21, %eax
    or $(PAGE_PRESENT_WRITABLE | PAGE_HUGE), %eax
    mov %eax, boot_pd - KERNEL_VMA(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jb 1b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $(boot_pml4 - KERNEL_VMA), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0
    lgdt gdt64_pointer
    ljmp $0x08, $long_mode_start

no_long_mode:
    mov $no_long_mode_text, %esi
    mov $0xe9, %dx
2:  lodsb
    test %al, %al
    jz 3f
    outb %al, %dx
    jmp 2b
3:  cli
    hlt
    jmp 3b

.code64
long_mode_start:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $higher_half_start, %rax
    jmp *%rax

.section .boot.data, "a"
no_long_mode_text:
    .asciz "boot64: this CPU has no long mode\n"
.align 8
gdt64:
    .quad 0                             /* null */
    .quad 0x00209a0000000000            /* 0x08: 64-bit code, ring 0 */
    .quad 0x0000920000000000            /* 0x10: data */
gdt64_end:
gdt64_pointer:
    .word gdt64_end - gdt64 - 1
    .long gdt64

.section .text
higher_half_start:
    movabs $boot_stack_top, %rsp
    mov %edi, %edi                      /* zero-extend what 32-bit code left in the upper halves */
    mov %esi, %esi
    call kernel_main
4:  cli
    hlt
    jmp 4b

.section .bss
.align 4096
.global boot_pml4, boot_pdpt_low, boot_pdpt_high, boot_pd
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096              /* shared by the identity map and the higher half */
.align 16
boot_stack:     .skip 16384
boot_stack_top:
