# issue 11 defect 1: a hypercall alone broke the identity map the dirty-page hook relied on.
    xor edi, edi
    mov esi, 0x200000
    HYPERCALL HC_VMUNMAP
    movabs rsi, 0xffff800000500000
    mov qword ptr [rsi], 0x1234
