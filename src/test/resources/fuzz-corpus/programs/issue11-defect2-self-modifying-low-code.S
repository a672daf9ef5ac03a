# issue 11 defect 2: bytes at 0xf3e that modify themselves; after the re-executed instruction
# Unicorn reported no more writes and P0x1000, P0x11000, P0x20000 stayed modified after reset.
# budget: 3000
    mov eax, 0xf3e
    call rax
