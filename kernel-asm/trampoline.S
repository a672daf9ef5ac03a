# Long-mode trampoline: the first 64-bit code, still at its identity address,
# then the jump to the higher half, the kernel's own page tables, the kernel
# stack, and the call to kmain.
#
# boot.S's tables identity-map the first GiB because the instructions that turn
# paging on run at their physical addresses. Once the kernel runs in the higher
# half that map only hides bugs (a NULL dereference would read physical 0), so,
# as a real kernel does, it switches to a PML4 of its own that shares only the
# kernel half (slots 256..511) with the boot tables and leaves the lower half,
# and with it the first page, unmapped. From there on everything low is reached
# through the image alias (physical + KERNEL_VMA, first GiB) or, after
# HC_MM_INIT, the direct map.

.intel_syntax noprefix
.include "kemu.inc"

.set PML4_ENTRIES, 512
.set KERNEL_HALF_FIRST, 256               # first PML4 slot of the kernel half

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
    cld                                       # Multiboot leaves DF undefined; rep below counts up
    # The boot information pointer lies in .boot.data (low); read it through the image alias.
    movabs rax, offset boot_info_phys + KERNEL_VMA
    mov ebx, dword ptr [rax]
    movabs rax, KERNEL_VMA
    add rbx, rax                              # boot information, higher-half alias
    # The GDTR holds boot.S's GDT by its identity (linear) address: move it to the alias.
    sub rsp, 16
    sgdt [rsp]
    cmp [rsp + 2], rax
    jae 1f                                    # already a higher-half base
    add [rsp + 2], rax                        # base += KERNEL_VMA
    lgdt [rsp]
1:
    add rsp, 16

    # kernel_pml4: lower half empty, kernel half copied from boot_pml4 (same PDPTs).
    lea rdi, [rip + kernel_pml4]
    xor eax, eax
    mov ecx, KERNEL_HALF_FIRST
    rep stosq
    movabs rsi, offset boot_pml4 + KERNEL_VMA + KERNEL_HALF_FIRST * 8
    mov ecx, PML4_ENTRIES - KERNEL_HALF_FIRST
    rep movsq
    lea rax, [rip + kernel_pml4]
    movabs rcx, KERNEL_VMA
    sub rax, rcx                              # CR3 takes the physical address
    mov cr3, rax                              # the boot map has no G bit: this flushes all of it
.global kernel_tables_on
kernel_tables_on:
    mov rdi, rbx
    call kmain
.global kernel_halt
kernel_halt:
    cli
    hlt
    jmp kernel_halt

.section .bss, "aw", @nobits
.align 4096
.global kernel_pml4
kernel_pml4: .skip 4096
.align 16
kernel_stack: .skip 16384
.global kernel_stack_top
kernel_stack_top:
