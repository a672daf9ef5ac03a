# The local APIC from the bootstrap CPU: the uncached window that makes it reachable, an IDT
# with the timer and spurious vectors, and the timer demo (periodic interrupts counted with
# sti; hlt, the interrupt shadow keeping the wake-up from slipping in between).

.intel_syntax noprefix
.include "kemu.inc"
.include "apic.inc"

.set APIC_PD_FIRST, (IOAPIC_PHYS - MMIO_WINDOW_PHYS) >> 21   # 2 MiB slot of the IOAPIC
# The slot's byte offset named once: Keystone drops the scale of `[reg + NAME * 8]` (it takes NAME alone),
# so a scaled constant inside brackets is spelled as a constant of its own, the same bytes in both assemblers.
.set APIC_PD_OFFSET, APIC_PD_FIRST * 8
.set IDT_ENTRIES, 256
.set PTE_ADDRESS_MASK, 0x000ffffffffff000
.set GATE_INTERRUPT, 0x8E00                  # present, DPL 0, 64-bit interrupt gate
.set PIC_MASTER_DATA, 0x21                   # interrupt mask registers of the 8259A pair
.set PIC_SLAVE_DATA, 0xA1

.section .text, "ax"
.code64

# apic_map: maps P0xfec00000..P0xff000000 (IOAPIC, local APIC) uncached at LAPIC_VA's window.
.global apic_map
apic_map:
    lea rdi, [rip + mmio_pd]
    mov eax, IOAPIC_PHYS | PTE_PRESENT | PTE_WRITABLE | PTE_HUGE | PTE_WRITE_THROUGH | PTE_CACHE_DISABLE
    mov [rdi + APIC_PD_OFFSET], rax
    add rax, 0x200000
    mov [rdi + APIC_PD_OFFSET + 8], rax
    movabs rcx, KERNEL_VMA
    sub rdi, rcx
    or rdi, PTE_PRESENT | PTE_WRITABLE
    # The kernel half's last PDPT, found from CR3 as the MMU finds it (PML4 slot 511), through the image alias.
    movabs rdx, PTE_ADDRESS_MASK
    mov rax, cr3
    and rax, rdx
    mov rax, [rax + rcx + 511 * 8]
    and rax, rdx
    mov [rax + rcx + 511 * 8], rdi           # every CPU's PML4 shares this PDPT
    mov rax, cr3
    mov cr3, rax
    ret

# apic_id -> eax: this CPU's local APIC ID.
.global apic_id
apic_id:
    movabs rax, LAPIC_VA
    mov eax, [rax + LAPIC_ID]
    shr eax, 24
    ret

# apic_timer_demo(edi = period in timer counts, esi = interrupts to wait for) -> rax = interrupts taken
.global apic_timer_demo
apic_timer_demo:
    push rbx
    mov edx, edi
    mov r8d, esi                             # idt_set_gate takes rsi
    mov [rip + apic_ticks_wanted], r8
    mov rdi, VECTOR_APIC_TIMER
    lea rsi, [rip + apic_timer_isr]
    call idt_set_gate
    mov rdi, VECTOR_SPURIOUS
    lea rsi, [rip + apic_spurious_isr]
    call idt_set_gate
    lidt [rip + idtr]
    mov al, 0xff                             # the legacy PICs off: the firmware may have left IRQ0 on vector 8
    out PIC_MASTER_DATA, al
    out PIC_SLAVE_DATA, al

    movabs rbx, LAPIC_VA
    mov dword ptr [rbx + LAPIC_SVR], LAPIC_SVR_ENABLE | VECTOR_SPURIOUS
    mov dword ptr [rbx + LAPIC_TIMER_DIVIDE], LAPIC_DIVIDE_BY_1
    mov dword ptr [rbx + LAPIC_LVT_TIMER], LAPIC_TIMER_PERIODIC | VECTOR_APIC_TIMER
    mov [rbx + LAPIC_TIMER_INITIAL], edx
1:  sti
    hlt                                      # sti's shadow: the interrupt can only end this hlt
    cli
    cmp [rip + apic_ticks], r8
    jb 1b
    mov dword ptr [rbx + LAPIC_LVT_TIMER], LAPIC_LVT_MASKED | VECTOR_APIC_TIMER
    mov dword ptr [rbx + LAPIC_TIMER_INITIAL], 0
    mov rax, [rip + apic_ticks]
    pop rbx
    ret

# Counts up to the number asked for: on a busy host QEMU may have the next tick pending when the last
# one wanted returns, and it would be taken before the cli after the hlt.
apic_timer_isr:
    push rax
    inc qword ptr [rip + apic_interrupts]    # every one taken (tests read it), the line prints apic_ticks
    mov rax, [rip + apic_ticks]
    cmp rax, [rip + apic_ticks_wanted]
    jae 1f
    inc qword ptr [rip + apic_ticks]
1:  movabs rax, LAPIC_VA
    mov dword ptr [rax + LAPIC_EOI], 0
    pop rax
    iretq

apic_spurious_isr:                           # no EOI for the spurious vector
    iretq

# idt_set_gate(rdi = vector, rsi = handler): a 64-bit interrupt gate on the kernel's code selector.
idt_set_gate:
    shl rdi, 4
    lea rax, [rip + idt]
    add rdi, rax
    mov rax, rsi
    mov [rdi], ax
    mov word ptr [rdi + 2], BOOT_CODE_SELECTOR
    mov word ptr [rdi + 4], GATE_INTERRUPT
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword ptr [rdi + 12], 0
    ret

.section .data, "aw"
.align 16
idtr:
    .word IDT_ENTRIES * 16 - 1
    .quad idt
.global apic_ticks
apic_ticks: .quad 0
apic_ticks_wanted: .quad 0
.global apic_interrupts
apic_interrupts: .quad 0

.section .bss, "aw", @nobits
.align 4096
mmio_pd: .skip 4096
idt:     .skip IDT_ENTRIES * 16
