# issue 11 defect 2: a call into zero bytes at an address ending in 0xf3e: 00 00 is
# add [rax], al, which with RAX = the call target rewrites the instruction being executed
# (self-modifying code) and runs on across a page boundary. After the re-executed instruction
# Unicorn reported no more writes, and pages stayed modified after reset. Found at V0xf3e in
# the boot identity map; that map is gone once the kernel is in the higher half, so the same
# bytes now sit at the same page offset in the snippet code area (mapped writable, executable),
# and the sled runs into stores to the pages that stayed modified (through the direct map).
# budget: 3000
    lea rax, [rip + sled]
    call rax
    .org 0xf3e
sled:
    .zero 512
    movabs rsi, 0xffff800000001000
    mov qword ptr [rsi], rsi
    movabs rsi, 0xffff800000011000
    mov qword ptr [rsi], rsi
    movabs rsi, 0xffff800000020000
    mov qword ptr [rsi], rsi
