# Several CPUs, as seed 003 brings them up: the bootstrap CPU finds the CPUs in the ACPI MADT,
# starts each application processor with INIT, STARTUP, STARTUP, one at a time (so that their
# lines come out in order, under kemu and under QEMU alike), and waits for it. Each AP runs the
# real-mode trampoline copied to AP_TRAMPOLINE_PHYS, switches to long mode on boot.S's tables,
# moves to the higher half, loads the BSP's CR3, prints its APIC ID, adds one to a shared counter
# with lock xadd and halts. Then the BSP counts local APIC timer interrupts. docs/smp.md.

.intel_syntax noprefix
.include "kemu.inc"
.include "apic.inc"

.set AP_TRAMPOLINE_PHYS, 0x70000             # below the EBDA, above kemu's boot information
.set AP_STARTUP_VECTOR, AP_TRAMPOLINE_PHYS >> 12
.set MAX_CPUS, 16
.set AP_STACK_SIZE, 4096
.set AP_WAIT_SPINS, 10000000                 # how long the BSP waits for an AP before giving up
.set IPI_DELAY_SPINS, 10000                  # between INIT and STARTUP (no real time needed here)
.set TIMER_PERIOD, 1000000                   # local APIC timer counts (1 ms at QEMU's 1 GHz APIC clock)
.set TIMER_INTERRUPTS, 10
.set TRAMPOLINE_CODE32, 0x08
.set TRAMPOLINE_DATA, 0x10
.set TRAMPOLINE_CODE64, 0x18

.section .text, "ax"
.code64

# smp_demo: the lines of the CPUs and the timer; returns when every AP has halted.
.global smp_demo
smp_demo:
    push rbx
    push r12
    push r13
    lea rdi, [rip + cpu_ids]
    mov esi, MAX_CPUS
    call acpi_cpus
    mov r12, rax                             # CPUs in the MADT
    test rax, rax
    jz .Lno_madt
    lea rdi, [rip + msg_cpus]
    call console_puts
    mov rdi, r12
    call console_put_dec
    call console_newline

    call apic_map
    call apic_id
    mov r13d, eax                            # the BSP's APIC ID
    mov rax, cr3
    mov [rip + bsp_cr3], rax
    sgdt [rip + ap_gdtr]                     # the higher-half GDT trampoline.S loaded
    call copy_trampoline

    xor ebx, ebx                             # index into cpu_ids
.Lnext_cpu:
    cmp rbx, r12
    jae .Lall_started
    lea rax, [rip + cpu_ids]
    movzx edi, byte ptr [rax + rbx]
    inc rbx
    cmp edi, r13d
    je .Lnext_cpu
    call start_ap
    jmp .Lnext_cpu
.Lall_started:
    lea rdi, [rip + msg_counter]
    call console_puts
    mov rdi, [rip + shared_counter]
    call console_put_dec
    call console_newline

    mov edi, TIMER_PERIOD
    mov esi, TIMER_INTERRUPTS
    call apic_timer_demo
    mov rbx, rax
    lea rdi, [rip + msg_ticks]
    call console_puts
    mov rdi, rbx
    call console_put_dec
    lea rdi, [rip + msg_ticks_end]
    call console_puts
    jmp .Lout
.Lno_madt:
    lea rdi, [rip + msg_no_madt]
    call console_puts
.Lout:
    pop r13
    pop r12
    pop rbx
    ret

# start_ap(edi = APIC ID): INIT, STARTUP, STARTUP, then wait until the AP says it is done.
start_ap:
    push rbx
    mov ebx, edi
    mov rax, [rip + aps_done]
    mov r8, rax                              # the count before this AP (send_ipi and spin keep r8)
    inc rax
    mov rcx, rax
    imul rcx, AP_STACK_SIZE
    lea rdx, [rip + ap_stacks]
    add rdx, rcx
    mov [rip + ap_stack_top], rdx            # its own stack: the (n+1)th page, top
    mov edi, ebx
    mov esi, LAPIC_ICR_INIT
    call send_ipi
    mov ecx, IPI_DELAY_SPINS
    call spin
    mov edi, ebx
    mov esi, LAPIC_ICR_STARTUP | AP_STARTUP_VECTOR
    call send_ipi
    mov ecx, IPI_DELAY_SPINS
    call spin
    mov edi, ebx
    mov esi, LAPIC_ICR_STARTUP | AP_STARTUP_VECTOR
    call send_ipi                            # the second STARTUP, as the MP specification says; a running AP ignores it
    mov ecx, AP_WAIT_SPINS
1:  cmp [rip + aps_done], r8
    jne 2f
    pause
    dec ecx
    jnz 1b
    lea rdi, [rip + msg_ap_silent]
    call console_puts
    mov edi, ebx
    call console_put_dec
    call console_newline
2:  pop rbx
    ret

# send_ipi(edi = destination APIC ID, esi = ICR low word), and wait until the APIC accepted it.
send_ipi:
    movabs rax, LAPIC_VA
    shl edi, 24
    mov [rax + LAPIC_ICR_HIGH], edi
    mov [rax + LAPIC_ICR_LOW], esi
1:  test dword ptr [rax + LAPIC_ICR_LOW], LAPIC_ICR_PENDING
    jz 2f
    pause
    jmp 1b
2:  ret

# spin(ecx = iterations)
spin:
    pause
    dec ecx
    jnz spin
    ret

console_newline:
    mov edi, '\n'
    jmp console_putc

copy_trampoline:
    lea rsi, [rip + ap_trampoline]
    movabs rdi, AP_TRAMPOLINE_PHYS + KERNEL_VMA
    mov ecx, ap_trampoline_end - ap_trampoline
    rep movsb
    ret

# ap_higher_half: an AP's first instruction in the higher half (CS is the trampoline's 64-bit selector).
ap_higher_half:
    mov rsp, [rip + ap_stack_top]            # the trampoline ran without a stack
    lgdt [rip + ap_gdtr]
    mov ax, BOOT_DATA_SELECTOR
    mov ds, ax
    mov es, ax
    mov ss, ax
    push BOOT_CODE_SELECTOR
    lea rax, [rip + 1f]
    push rax
    retfq                                    # onto the kernel's code selector
1:  mov rax, [rip + bsp_cr3]
    mov cr3, rax                             # the BSP's page tables, the lower half gone
    call apic_id
    mov ebx, eax
    lea rdi, [rip + msg_ap]
    call console_puts
    mov edi, ebx
    call console_put_dec
    lea rdi, [rip + msg_ap_end]
    call console_puts
    mov eax, 1
    lock xadd [rip + shared_counter], rax
    lock inc qword ptr [rip + aps_done]      # the BSP may start the next one
2:  cli
    hlt
    jmp 2b

# The AP trampoline, copied to AP_TRAMPOLINE_PHYS; a STARTUP IPI with vector 0x70 starts an AP
# in real mode at CS:IP = 7000:0000. Only label differences are used, so it runs where copied.
.code16
ap_trampoline:
    cli
    mov ax, cs
    mov ds, ax
    # lgdt [ap_trampoline_gdtr - ap_trampoline] as GNU as's bytes: Keystone gives a 16-bit lgdt a 0x66
    # prefix (a 32-bit operand), so both assemblers build the same trampoline only when it is spelled out.
    .byte 0x0f, 0x01, 0x16                    # lgdt [disp16]
    .word ap_trampoline_gdtr - ap_trampoline
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    .byte 0x66, 0xea                          # ljmp 0x08:ap_protected_mode (32-bit offset)
    .long AP_TRAMPOLINE_PHYS + ap_protected_mode - ap_trampoline
    .word TRAMPOLINE_CODE32
.code32
ap_protected_mode:
    mov ax, TRAMPOLINE_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, offset boot_pml4                 # boot.S's tables: identity first GiB and the higher half
    mov cr3, eax
    ENABLE_LONG_MODE_PAGING
    .byte 0xea                                # ljmp 0x18:ap_long_mode
    .long AP_TRAMPOLINE_PHYS + ap_long_mode - ap_trampoline
    .word TRAMPOLINE_CODE64
.code64
ap_long_mode:
    movabs rax, offset ap_higher_half
    jmp rax
.align 8
ap_trampoline_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff                  # 0x08 32-bit code
    .quad 0x00cf92000000ffff                  # 0x10 data
    .quad 0x00af9a000000ffff                  # 0x18 64-bit code
ap_trampoline_gdtr:
    .word ap_trampoline_gdtr - ap_trampoline_gdt - 1
    .long AP_TRAMPOLINE_PHYS + ap_trampoline_gdt - ap_trampoline
ap_trampoline_end:

.section .rodata, "a"
msg_cpus:      .asciz "kmain: CPUs in the ACPI MADT: "
msg_no_madt:   .asciz "kmain: no ACPI MADT in the first GiB, so one CPU and no local APIC demo\n"
msg_ap:        .asciz "kmain: AP with APIC ID "
msg_ap_end:    .asciz " in long mode on the BSP's page tables\n"
msg_ap_silent: .asciz "kmain: no word from the AP with APIC ID "
msg_counter:   .asciz "kmain: shared counter after the APs: "
msg_ticks:     .asciz "kmain: "
msg_ticks_end: .asciz " local APIC timer interrupts\n"

.section .data, "aw"
.align 8
bsp_cr3:        .quad 0
ap_stack_top:   .quad 0
aps_done:       .quad 0
shared_counter: .quad 0
ap_gdtr:        .skip 16

.section .bss, "aw", @nobits
cpu_ids:        .skip MAX_CPUS
.align 4096
ap_stacks:      .skip AP_STACK_SIZE * MAX_CPUS
