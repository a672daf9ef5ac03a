# A guest test program whose helper faults (run by SnippetSymbolsTest through Guest.runFile):
# the fault report must name the file's own label, copy_qwords+0x..., not a bare address.
    lea rsi, [rip + source]
    movabs rdi, 0x0000100000000000     # unmapped destination
    mov ecx, 2
    call copy_qwords
    jmp done
copy_qwords:
    mov rax, [rsi]
    mov [rdi], rax                     # faults: copy_qwords+0x3
    add rsi, 8
    add rdi, 8
    loop copy_qwords
    ret
done:
.section .rodata
source: .quad 1, 2
