# issue 11 defect 1: the write hook got physical addresses and walked them as virtual ones; after
# this program the next test read 0x1234 at 0xffff800000500000 instead of 0.
    movabs rax, 0xffffffff80101000
    mov qword ptr [rax], 0
    movabs rsi, 0xffff800000500000
    mov qword ptr [rsi], 0x1234
