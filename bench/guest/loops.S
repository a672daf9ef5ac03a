# Guest code shared by the C, Python and Java benchmark drivers. Flat binary loaded at
# physical 0x10000 and run in Unicorn's initial 64-bit mode (paging off); each routine starts
# at a fixed offset (.org) so every driver can find it without symbols.
#   +0x000 raw_loop:       rcx iterations of 10 instructions (8 ALU + dec/jnz), then hlt
#   +0x100 hypercall_loop: rcx iterations of: rdi = rcx, rsi = 7, out 0xE6 (service 1), then hlt
#   +0x200 touch_loop:     rcx pages from rdi on, one 8-byte write each, then hlt

.intel_syntax noprefix
.code64
.section .text
raw_loop:
1:  add rax, rcx
    xor rdx, rax
    add rbx, rdx
    rol rax, 3
    sub rsi, rbx
    xor rdi, rsi
    add r8, rdi
    inc r9
    dec rcx
    jnz 1b
    hlt

.org 0x100
hypercall_loop:
1:  mov eax, 1
    mov rdi, rcx
    mov esi, 7
    out 0xE6, al
    dec rcx
    jnz 1b
    hlt

.org 0x200
touch_loop:
1:  mov qword ptr [rdi], rcx
    add rdi, 4096
    dec rcx
    jnz 1b
    hlt
