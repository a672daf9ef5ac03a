# Long-mode trampoline: the first 64-bit code, still at its identity address,
# then the jump to the higher half, the kernel stack, and the call to kmain.

.intel_syntax noprefix
.include "kemu.inc"

.section .boot.text, "ax"
.code64
.global long_mode_entry
long_mode_entry:
    mov ax, BOOT_DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    movabs rax, offset higher_half_entry
    jmp rax

.section .text, "ax"
.global higher_half_entry
higher_half_entry:
    movabs rsp, offset kernel_stack_top
    mov edi, dword ptr [boot_info_phys]      # still reachable through the identity map
    movabs rax, KERNEL_VMA
    add rdi, rax                              # boot information, higher-half alias
    call kmain
.global kernel_halt
kernel_halt:
    cli
    hlt
    jmp kernel_halt

.section .bss, "aw", @nobits
.align 16
kernel_stack: .skip 16384
.global kernel_stack_top
kernel_stack_top:
