# Debug console (port 0xE9, as QEMU's debugcon and Bochs' port E9 hack).
# All routines preserve every register except RAX and the flags.

.intel_syntax noprefix
.include "kemu.inc"

.section .text, "ax"
.code64

# console_putc(dil = byte)
.global console_putc
console_putc:
    mov eax, edi
    out DEBUGCON_PORT, al
    ret

# console_puts(rdi = NUL-terminated string)
.global console_puts
console_puts:
    push rdi
1:  mov al, [rdi]
    test al, al
    jz 2f
    out DEBUGCON_PORT, al
    inc rdi
    jmp 1b
2:  pop rdi
    ret

# console_put_hex(rdi = value): "0x" then 16 hex digits.
.global console_put_hex
console_put_hex:
    push rcx
    push rdx
    mov al, '0'
    out DEBUGCON_PORT, al
    mov al, 'x'
    out DEBUGCON_PORT, al
    mov ecx, 16
1:  rol rdi, 4
    mov edx, edi
    and edx, 0xf
    lea rax, [rip + hex_digits]
    mov al, [rax + rdx]
    out DEBUGCON_PORT, al
    dec ecx
    jnz 1b
    pop rdx
    pop rcx
    ret

# console_put_dec(rdi = unsigned value)
.global console_put_dec
console_put_dec:
    push rcx
    push rdx
    push rsi
    sub rsp, 32
    mov rax, rdi
    lea rsi, [rsp + 31]
    mov byte ptr [rsi], 0
    mov ecx, 10
1:  xor edx, edx
    div rcx
    add dl, '0'
    dec rsi
    mov [rsi], dl
    test rax, rax
    jnz 1b
    push rdi
    mov rdi, rsi
    call console_puts
    pop rdi
    add rsp, 32
    pop rsi
    pop rdx
    pop rcx
    ret

.section .rodata, "a"
hex_digits: .ascii "0123456789abcdef"
