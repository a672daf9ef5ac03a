# kemu's firmware handoff stub. Not part of the kernel image.
#
# Unicorn starts an x86-64 engine in long mode with paging off (EFER.LME|LMA,
# 64-bit CS, CR0.PE). A Multiboot loader hands over in 32-bit protected mode
# with paging off. This stub walks the CPU from the first state to the second
# the architectural way, then jumps to the kernel's 32-bit entry with
# EAX = MULTIBOOT_BOOTLOADER_MAGIC and EBX = the boot-information block.
#
# At the jump the CPU is as the Multiboot 0.6.96 specification (section 3.2)
# requires and as QEMU's multiboot option ROM leaves it: CR0 = PE only, CR4 = 0
# (Unicorn's reset leaves OSFXSR, OSXSAVE and FSGSBASE set in CR4: x86_reg_reset
# in qemu/target/i386/unicorn.c), EFER = 0, EFLAGS = 0x2 (IF and VM clear), flat
# 4 GiB 32-bit CS/DS/ES/FS/GS/SS, paging off. A20 is always on in Unicorn.
#
# The host fills fw_kernel_entry and fw_boot_info (firmware configuration
# variables, like a loader's config table) and starts execution at fw_entry.
# It sets no register.

.intel_syntax noprefix
.include "kemu.inc"

# Spelled so that Keystone assembles the same bytes as GNU as (FirmwareStubDifferentialTest): a named
# mask, since Keystone reads `~CR0_PG` as a memory operand, and `mov ds, eax` (8e d8, as GNU gives
# `mov ds, ax` too), since Keystone adds a 0x66 prefix to `mov ds, ax`.
.set CR0_PG_CLEAR, ~CR0_PG

.set FW_CODE64, 0x08
.set FW_DATA64, 0x10
.set FW_CODE32, 0x18
.set FW_DATA32, 0x20

.section .text, "ax"
.code64
.global fw_entry
fw_entry:
    lea rsp, [rip + fw_stack_top]

    # Identity-map the first 1 GiB with 2 MiB pages: long mode needs paging
    # before the CPU can drop to compatibility mode and then leave it.
    lea rdi, [rip + fw_pd]
    xor ecx, ecx
1:  mov rax, rcx
    shl rax, 21
    or rax, PTE_PRESENT | PTE_WRITABLE | PTE_HUGE
    mov [rdi + rcx * 8], rax
    inc ecx
    cmp ecx, 512
    jne 1b
    lea rax, [rip + fw_pd]
    or rax, PTE_PRESENT | PTE_WRITABLE
    mov [rip + fw_pdpt], rax
    lea rax, [rip + fw_pdpt]
    or rax, PTE_PRESENT | PTE_WRITABLE
    mov [rip + fw_pml4], rax

    lea rax, [rip + fw_pml4]
    mov cr3, rax
    mov rax, cr4
    or rax, CR4_PAE
    mov cr4, rax
    mov rax, cr0
    or eax, CR0_PG
    mov cr0, rax

    lgdt [rip + fw_gdtr]
    push FW_CODE32
    lea rax, [rip + fw_compat]
    push rax
    retfq

.code32
fw_compat:
    # Compatibility mode: clearing CR0.PG leaves IA-32e mode (LMA drops).
    mov eax, cr0
    and eax, CR0_PG_CLEAR
    mov cr0, eax
    mov ecx, MSR_EFER           # EFER = 0: LME (and everything else) off
    xor eax, eax
    xor edx, edx
    wrmsr
    mov cr4, eax
    mov cr3, eax

    mov ax, FW_DATA32
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    push 2                      # only the reserved bit 1
    popfd

    mov ecx, [fw_kernel_entry]
    mov ebx, [fw_boot_info]
    mov eax, MULTIBOOT_BOOTLOADER_MAGIC
.global fw_handoff
fw_handoff:
    jmp ecx

.section .data, "aw"
.align 16
fw_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    # 0x08 64-bit code
    .quad 0x00cf92000000ffff    # 0x10 data
    .quad 0x00cf9a000000ffff    # 0x18 32-bit code, flat 4 GiB
    .quad 0x00cf92000000ffff    # 0x20 32-bit data, flat 4 GiB
fw_gdt_end:
fw_gdtr:
    .word fw_gdt_end - fw_gdt - 1
    .quad fw_gdt

.align 4
.global fw_kernel_entry, fw_boot_info
fw_kernel_entry: .long 0        # physical address of the kernel's 32-bit entry
fw_boot_info:    .long 0        # physical address of the Multiboot information

.section .bss, "aw", @nobits
.align 4096
fw_pml4:  .skip 4096
fw_pdpt:  .skip 4096
fw_pd:    .skip 4096
fw_stack: .skip 4096
fw_stack_top:
