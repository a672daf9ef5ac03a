# A guest test program (run by KernelAsmRoutinesTest through Guest.runFile): rax = 1 + ... + 100.
    mov ecx, 100
    xor eax, eax
1:  add rax, rcx
    loop 1b
