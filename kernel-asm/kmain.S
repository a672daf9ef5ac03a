# kmain(rdi = Multiboot information, higher-half address)
#
# Prints what the loader handed over, probes for kemu's services and stops
# through the exit port (QEMU isa-debug-exit compatible) and hlt.

.intel_syntax noprefix
.include "kemu.inc"
.include "multiboot.inc"                  # MBI_* and MMAP_*: the layout, shared with Java

.section .text, "ax"
.code64
.global kmain
kmain:
    push rbx
    push r12
    push r13
    push r14
    mov rbx, rdi

    lea rdi, [rip + msg_hello]
    call console_puts

    # Memory map: count usable bytes and ranges.
    test dword ptr [rbx + MBI_FLAGS], MBI_FLAG_MMAP
    jz .Lno_mmap
    mov r12d, [rbx + MBI_MMAP_ADDR]
    movabs rax, KERNEL_VMA
    add r12, rax                          # first entry, higher-half alias
    mov r13d, [rbx + MBI_MMAP_LENGTH]
    add r13, r12                          # end of the entries
    xor r14, r14                          # usable bytes
    xor ecx, ecx                          # usable ranges
.Lmmap_next:
    cmp r12, r13
    jae .Lmmap_done
    cmp dword ptr [r12 + MMAP_TYPE], MMAP_TYPE_USABLE
    jne .Lmmap_skip
    add r14, [r12 + MMAP_LENGTH]
    inc ecx
.Lmmap_skip:
    mov eax, [r12 + MMAP_SIZE]            # entry size, not counting itself
    lea r12, [r12 + rax + 4]
    jmp .Lmmap_next
.Lmmap_done:
    push rcx
    lea rdi, [rip + msg_mem]
    call console_puts
    mov rdi, r14
    shr rdi, 10
    call console_put_dec
    lea rdi, [rip + msg_mem_kib]
    call console_puts
    pop rdi
    call console_put_dec
    lea rdi, [rip + msg_mem_ranges]
    call console_puts
    jmp .Lprobe
.Lno_mmap:
    lea rdi, [rip + msg_no_mmap]
    call console_puts

.Lprobe:
    call smp_demo

    mov eax, HC_PROBE
    out HYPERCALL_PORT, al
    cmp eax, KEMU_MAGIC
    jne .Lno_services
    lea rdi, [rip + msg_services]
    call console_puts
    mov rdi, rbx
    call mm_demo
    test eax, eax
    jz .Ldone
    lea rdi, [rip + msg_mm_failed]
    call console_puts
    mov al, 1
    out EXIT_PORT, al
    jmp .Lreturn
.Lno_services:
    lea rdi, [rip + msg_no_services]
    call console_puts

.Ldone:
    lea rdi, [rip + msg_bye]
    call console_puts
    xor eax, eax
    out EXIT_PORT, al
.Lreturn:
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

.section .rodata, "a"
msg_hello:       .asciz "kmain: hello from the higher half\n"
msg_mem:         .asciz "kmain: memory map: "
msg_mem_kib:     .asciz " KiB usable in "
msg_mem_ranges:  .asciz " ranges\n"
msg_no_mmap:     .asciz "kmain: no memory map from the loader\n"
msg_services:    .asciz "kmain: kemu services present\n"
msg_no_services: .asciz "kmain: kemu services absent\n"
msg_mm_failed:   .asciz "kmain: memory services demo failed\n"
msg_bye:         .asciz "kmain: done, halting\n"
