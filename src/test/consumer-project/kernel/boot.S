# A small kernel of "the user's own", as kemu's library test boots it: a Multiboot 1 ELF64 image with a
# 32-bit entry that builds its own page tables (identity and higher half, 1 GiB of 2 MiB pages each, the
# identity map kept), enters long mode, installs its own IDT (#UD and #PF handlers) and runs kernel_main.
# It does not use kemu's memory services. Stage symbols (_start .. kmain) are kept for kemu versions
# that find boot stages by symbol.
.intel_syntax noprefix
.set KERNEL_VMA, 0xffffffff80000000
.set MB_MAGIC, 0x1BADB002
.set CODE_SELECTOR, 0x08
.set DATA_SELECTOR, 0x10
.set READY_PORT, 0x501

.section .multiboot, "a"
.align 4
    .long MB_MAGIC
    .long 0
    .long -MB_MAGIC

.section .boot.text, "ax"
.code32
.global _start
_start:
    mov esp, offset boot_stack_top
    mov edi, offset boot_pd
    xor ecx, ecx
fill_pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                         # present, writable, 2 MiB page
    mov [edi + ecx * 8], eax
    mov dword ptr [edi + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 512
    jne fill_pd
    mov eax, offset boot_pd
    or eax, 3
    mov [pdpt_low], eax
    mov [pdpt_high + 510 * 8], eax
    mov eax, offset pdpt_low
    or eax, 3
    mov [boot_pml4], eax
    mov eax, offset pdpt_high
    or eax, 3
    mov [boot_pml4 + 511 * 8], eax
    mov eax, offset boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 1 << 5                       # PAE
    mov cr4, eax
    mov ecx, 0xC0000080                  # EFER
    rdmsr
    or eax, 1 << 8                       # LME (no NXE: this kernel never uses the no-execute bit)
    wrmsr
    mov eax, cr0
    or eax, 0x80000001                   # PG, PE
    mov cr0, eax
.global boot_paging_on
boot_paging_on:
    lgdt [gdt_pointer]
    ljmp CODE_SELECTOR, offset long_mode_entry

.code64
.global long_mode_entry
long_mode_entry:
    mov ax, DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov ss, ax
    movabs rax, offset higher_half_entry
    jmp rax

.section .boot.data, "aw"
.align 16
gdt:
    .quad 0
    .quad 0x00af9a000000ffff             # 64-bit code
    .quad 0x00cf92000000ffff             # data
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .quad gdt

.section .boot.bss, "aw", @nobits
.align 4096
boot_pml4: .skip 4096
pdpt_low:  .skip 4096
pdpt_high: .skip 4096
boot_pd:   .skip 4096
boot_stack: .skip 4096
boot_stack_top:

.section .text, "ax"
.global higher_half_entry
higher_half_entry:
    movabs rsp, offset kernel_stack_top
.global kernel_tables_on
kernel_tables_on:
    call kmain
halt:
    cli
    hlt
    jmp halt

# kmain: the kernel's own IDT, then kernel_main.
.global kmain
kmain:
    mov edi, 6
    lea rsi, [rip + invalid_opcode_handler]
    call set_gate
    mov edi, 14
    lea rsi, [rip + page_fault_handler]
    call set_gate
    lidt [rip + idt_pointer]
    jmp kernel_main

# set_gate(vector: rdi, handler: rsi): a present 64-bit interrupt gate, ring 0.
set_gate:
    lea rax, [rip + idt]
    shl rdi, 4
    add rdi, rax
    mov rax, rsi
    mov word ptr [rdi], ax
    mov word ptr [rdi + 2], CODE_SELECTOR
    mov word ptr [rdi + 4], 0x8E00
    shr rax, 16
    mov word ptr [rdi + 6], ax
    shr rax, 16
    mov dword ptr [rdi + 8], eax
    mov dword ptr [rdi + 12], 0
    ret

# kernel_main: marks that it ran, signals readiness on port 0x501, greets and exits with status 0.
.global kernel_main
kernel_main:
    mov qword ptr [rip + main_entered], 1
    mov dx, READY_PORT
    out dx, al
    lea rsi, [rip + hello]
print:
    lodsb
    test al, al
    jz done
    out 0xE9, al
    jmp print
done:
    xor eax, eax
    out 0xF4, al
    jmp halt

# kernel_add(a: rdi, b: rsi) -> rax
.global kernel_add
kernel_add:
    lea rax, [rdi + rsi]
    ret

# #PF: records CR2 and a count, then resumes at pf_resume (set by the code that expects the fault).
page_fault_handler:
    push rax
    mov rax, cr2
    mov [rip + pf_address], rax
    inc qword ptr [rip + pf_count]
    mov rax, [rip + pf_resume]
    mov [rsp + 16], rax                  # the saved RIP, above the saved rax and the error code
    pop rax
    add rsp, 8                           # the error code
    iretq

# #UD: counts and skips the two-byte ud2.
invalid_opcode_handler:
    inc qword ptr [rip + ud_count]
    add qword ptr [rsp], 2
    iretq

.section .rodata
hello: .asciz "kernel_main: hello from the user's kernel\n"

.section .data
.align 16
idt_pointer:
    .word 256 * 16 - 1
    .quad idt
.global pf_address, pf_count, pf_resume, ud_count, main_entered
pf_address:   .quad 0
pf_count:     .quad 0
pf_resume:    .quad 0
ud_count:     .quad 0
main_entered: .quad 0

.section .bss
.align 4096
idt: .skip 256 * 16
kernel_stack: .skip 16384
kernel_stack_top:
