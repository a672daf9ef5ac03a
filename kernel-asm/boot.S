# Multiboot 1 header and the kernel's 32-bit entry.
#
# Entered in 32-bit protected mode with paging off (by kemu's firmware stub or
# by any Multiboot loader, e.g. QEMU -kernel). Builds the boot page tables:
#
#   PML4[0]   -> boot_pdpt_low[0]    -> boot_pd   identity 0..1 GiB
#   PML4[511] -> boot_pdpt_high[510] -> boot_pd   0xffffffff80000000.. -> 0..1 GiB
#
# boot_pd holds 512 2 MiB pages. Then PAE, EFER.LME, CR0.PG, a 64-bit GDT and
# a far jump to long_mode_entry (trampoline.S). EFER.NXE is set too, so that page
# tables may use the no-execute bit.
#
# The identity half lives only until trampoline.S reaches the higher half and
# loads kernel_pml4 (kernel half shared, lower half empty); everything here is
# then reached through its image alias, physical + KERNEL_VMA.

.intel_syntax noprefix
.include "kemu.inc"

.section .multiboot, "a"
.align 4
multiboot_header:
    .long MULTIBOOT_HEADER_MAGIC
    .long MULTIBOOT_HEADER_FLAGS
    .long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

.section .boot.text, "ax"
.code32
.global _start
_start:
    cmp eax, MULTIBOOT_BOOTLOADER_MAGIC
    jne no_multiboot
    mov esp, offset boot_stack_top
    mov [boot_info_phys], ebx

    # boot_pd: 512 huge pages covering the first 1 GiB.
    mov edi, offset boot_pd
    xor ecx, ecx
1:  mov eax, ecx
    shl eax, 21
    or eax, PTE_PRESENT | PTE_WRITABLE | PTE_HUGE
    mov [edi + ecx * 8], eax
    mov dword ptr [edi + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jne 1b

    mov eax, offset boot_pd
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [boot_pdpt_low], eax
    mov [boot_pdpt_high + 510 * 8], eax
    mov eax, offset boot_pdpt_low
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [boot_pml4], eax
    mov eax, offset boot_pdpt_high
    or eax, PTE_PRESENT | PTE_WRITABLE
    mov [boot_pml4 + 511 * 8], eax

    mov eax, offset boot_pml4
    mov cr3, eax
    ENABLE_LONG_MODE_PAGING
.global boot_paging_on
boot_paging_on:
    # lgdt [boot_gdtr] and ljmp BOOT_CODE_SELECTOR:long_mode_entry, as bytes: in 32-bit code Keystone
    # gives lgdt a 0x66 prefix (a 24-bit base) and makes the far jump a 16-bit one (docs/keystone.md);
    # these are GNU as's bytes for both instructions, so either assembler builds the same boot path.
    .byte 0x0f, 0x01, 0x15                  # lgdt [disp32]
    .long boot_gdtr
    .byte 0xea                              # ljmp ptr16:32
    .long long_mode_entry
    .word BOOT_CODE_SELECTOR

no_multiboot:
    # Not started by a Multiboot loader: say so and stop.
    mov esi, offset no_multiboot_msg
2:  lodsb
    test al, al
    jz 3f
    out DEBUGCON_PORT, al
    jmp 2b
3:  cli
    hlt
    jmp 3b

.section .boot.data, "aw"
.align 16
.global boot_gdt
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    # 0x08 64-bit code (L=1)
    .quad 0x00cf92000000ffff    # 0x10 data
boot_gdt_end:
.global boot_gdtr
boot_gdtr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt
.align 4
.global boot_info_phys
boot_info_phys: .long 0
no_multiboot_msg: .asciz "boot: not loaded by a Multiboot loader\n"

.section .boot.bss, "aw", @nobits
.align 4096
.global boot_pml4, boot_pdpt_low, boot_pdpt_high, boot_pd
boot_pml4:       .skip 4096
boot_pdpt_low:   .skip 4096
boot_pdpt_high:  .skip 4096
boot_pd:         .skip 4096
boot_stack:      .skip 4096
boot_stack_top:
