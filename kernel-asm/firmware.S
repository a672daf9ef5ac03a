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
# It sets no register. fw_boot_magic is EAX at the handoff: Multiboot 1's
# magic unless the host writes Multiboot 2's (0x36d76289).
#
# fw_limine_entry is the second way out, for Limine-protocol kernels: they are
# entered in long mode with paging on, through page tables, a GDT and a stack
# the host built in guest RAM (bootloader-reclaimable memory). The host fills
# fw_limine_cr3, fw_limine_gdtr, fw_limine_rsp and fw_limine_kernel_entry.
#
# When the kernel asks for the other CPUs (Limine's SMP request) the host also
# fills fw_limine_ap_count and fw_limine_ap_table: before the handoff the
# bootstrap CPU starts each AP with INIT and STARTUP IPIs through its local
# APIC, as Limine does; the AP walks from real mode into long mode on the same
# page tables and GDT (fw_ap_trampoline), parks spinning on its goto_address,
# and the bootstrap CPU waits until every AP has parked.

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
.set LIMINE_CODE64, 0x28        # the Limine GDT the host writes: null, 16-, 32-, 64-bit code/data pairs
.set LIMINE_DATA64, 0x30
.set LAPIC_BASE, 0xfee00000     # the xAPIC window (IA32_APIC_BASE's reset value)
.set LAPIC_ICR_LOW, 0x300
.set LAPIC_ICR_HIGH, 0x310
.set ICR_INIT, 0x4500           # INIT, level assert
.set ICR_STARTUP, 0x4600        # STARTUP; the vector is the trampoline's page number
.set ICR_SEND_PENDING, 0x1000   # delivery status
.set AP_SLOT_BYTES, 24          # fw_limine_ap_table: u64 lapic_id, u64 info (HHDM), u64 stack top (HHDM)
.set SMP_INFO_GOTO, 16          # struct limine_smp_info: u32 processor_id, u32 lapic_id, u64 reserved, goto, arg

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
    mov eax, [fw_boot_magic]
.global fw_handoff
fw_handoff:
    jmp ecx

.code64
# Limine protocol handoff (PROTOCOL.md, "Machine state at entry", x86-64).
# Unicorn starts with EFER.LME|LMA and a 64-bit CS but paging off; loading CR3
# and setting CR0.PG from there makes the state architectural (see fw_entry).
.global fw_limine_entry
fw_limine_entry:
    lea rsp, [rip + fw_stack_top]
    mov rax, [rip + fw_limine_cr3]
    mov cr3, rax
    mov rax, cr4
    or rax, CR4_PAE
    mov cr4, rax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov rax, cr0
    or eax, CR0_PG | CR0_WP | CR0_PE
    mov cr0, rax
    lgdt [rip + fw_limine_gdtr]
    push LIMINE_CODE64
    lea rax, [rip + 1f]
    push rax
    retfq
1:  mov ax, LIMINE_DATA64
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    call fw_limine_start_aps
    mov rsp, [rip + fw_limine_rsp]
    push 2                      # IF, DF (and VM) clear
    popfq
    push 0                      # the invalid return address the protocol pushes
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
.global fw_limine_handoff
fw_limine_handoff:
    jmp qword ptr [rip + fw_limine_kernel_entry]

# The SMP request: INIT and STARTUP to every AP of fw_limine_ap_table, then wait
# until all of them have parked (a real loader waits for each AP to report in).
fw_limine_start_aps:
    mov rcx, [rip + fw_limine_ap_count]
    test rcx, rcx
    jz 3f
    mov rsi, [rip + fw_limine_ap_table]
    mov edi, LAPIC_BASE
    lea rdx, [rip + fw_ap_trampoline]
    shr edx, 12
    or edx, ICR_STARTUP
1:  mov eax, [rsi]
    shl eax, 24
    mov [rdi + LAPIC_ICR_HIGH], eax
    mov dword ptr [rdi + LAPIC_ICR_LOW], ICR_INIT
    call fw_lapic_wait_idle
    mov [rdi + LAPIC_ICR_HIGH], eax
    mov [rdi + LAPIC_ICR_LOW], edx
    call fw_lapic_wait_idle
    add rsi, AP_SLOT_BYTES
    dec rcx
    jnz 1b
    mov rcx, [rip + fw_limine_ap_count]
2:  pause
    cmp [rip + fw_limine_aps_parked], rcx
    jne 2b
3:  ret

# Until the local APIC has sent the IPI (ICR delivery status idle).
fw_lapic_wait_idle:
    pause
    test dword ptr [rdi + LAPIC_ICR_LOW], ICR_SEND_PENDING
    jnz fw_lapic_wait_idle
    ret

# An AP after STARTUP: real mode at CS:IP = (fw_ap_trampoline >> 4):0000, so the
# trampoline sits on a page boundary below 1 MiB. It reaches long mode through
# fw_gdt (all below 64 KiB, addressed with DS = 0), then takes the protocol's GDT
# and page tables, its stack and info struct from its slot (found by its APIC
# ID), sets IF clear and spins on goto_address.
.code16
.align 4096
.global fw_ap_trampoline
fw_ap_trampoline:
    cli
    xor ax, ax
    mov ds, ax
    .byte 0x0f, 0x01, 0x16      # lgdt [fw_gdtr] (16-bit address; Keystone would add a 0x66 prefix)
    .word fw_gdtr
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    .byte 0x66, 0xea            # ljmp FW_CODE32:fw_ap_protected (32-bit offset)
    .long fw_ap_protected
    .word FW_CODE32
.code32
fw_ap_protected:
    mov ax, FW_DATA32
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov eax, [fw_limine_cr3]
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME | EFER_NXE
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_WP | CR0_PE
    mov cr0, eax
    .byte 0xea                  # ljmp FW_CODE64:fw_ap_long_mode
    .long fw_ap_long_mode
    .word FW_CODE64
.code64
fw_ap_long_mode:
    mov eax, 1
    cpuid
    shr ebx, 24                 # this CPU's initial APIC ID
    mov rsi, [rip + fw_limine_ap_table]
    mov rcx, [rip + fw_limine_ap_count]
1:  cmp [rsi], rbx
    je 2f
    add rsi, AP_SLOT_BYTES
    dec rcx
    jnz 1b
5:  cli                         # not in the table: never started by the loader
    hlt
    jmp 5b
2:  mov rsp, [rsi + 16]
    mov rdi, [rsi + 8]
    lgdt [rip + fw_limine_gdtr]
    push LIMINE_CODE64
    lea rax, [rip + 3f]
    push rax
    retfq
3:  mov ax, LIMINE_DATA64
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    push 2                      # IF, DF (and VM) clear
    popfq
    lock inc qword ptr [rip + fw_limine_aps_parked]
.global fw_limine_ap_parked
fw_limine_ap_parked:
    pause
    mov rax, [rdi + SMP_INFO_GOTO]
    test rax, rax
    jz fw_limine_ap_parked
    push 0                      # the invalid return address, as at the BSP's entry
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
.global fw_limine_ap_goto
fw_limine_ap_goto:
    jmp qword ptr [rdi + SMP_INFO_GOTO]   # RDI = this CPU's struct limine_smp_info

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
.global fw_boot_magic
fw_boot_magic:   .long MULTIBOOT_BOOTLOADER_MAGIC   # EAX at the handoff

.align 16
.global fw_limine_cr3, fw_limine_rsp, fw_limine_kernel_entry, fw_limine_gdtr
fw_limine_cr3:          .quad 0 # physical address of the PML4 the host built
fw_limine_rsp:          .quad 0 # the stack top (a higher-half direct-map address)
fw_limine_kernel_entry: .quad 0 # the kernel's virtual entry point
.global fw_limine_ap_count, fw_limine_ap_table, fw_limine_aps_parked
fw_limine_ap_count:     .quad 0 # APs to start (0: no SMP request, or one CPU)
fw_limine_ap_table:     .quad 0 # physical address of the APs' slots (AP_SLOT_BYTES each)
fw_limine_aps_parked:   .quad 0 # APs spinning on goto_address so far
.align 16
.skip 6
fw_limine_gdtr:         .word 0 # limit and 64-bit base of the protocol's GDT
                        .quad 0

.section .bss, "aw", @nobits
.align 4096
fw_pml4:  .skip 4096
fw_pdpt:  .skip 4096
fw_pd:    .skip 4096
fw_stack: .skip 4096
fw_stack_top:
