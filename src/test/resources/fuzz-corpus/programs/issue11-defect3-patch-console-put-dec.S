# issue 11 defect 3: translated code outlived the restore: every later console_put_dec printed nothing.
    lea rdx, [rip + console_put_dec]
    mov byte ptr [rdx], 0xc3
    call console_put_dec
