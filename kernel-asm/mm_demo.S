# mm_demo(rdi = Multiboot information, higher-half address) -> rax = 0 on success
#
# Exercises every memory service through the hypercall ABI (docs/ABI.md): sets the memory
# manager up, then allocates, writes, reads back and frees through each allocator, maps and
# unmaps a page, and checks that a double kfree is refused. Prints one line per step.

.intel_syntax noprefix
.include "kemu.inc"

.set DEMO_VA, 0xffffc80000000000          # a free kernel address for the vmmap step
.set PATTERN, 0x1122334455667788

.section .text, "ax"
.code64

# say(rdi = label, rsi = value): "mm: <label> <value in hex>\n"
say:
    push rdi
    lea rdi, [rip + s_prefix]
    call console_puts
    pop rdi
    call console_puts
    mov rdi, rsi
    call console_put_hex
    mov dil, 10
    call console_putc
    ret

# say_dec(rdi = label, rsi = value): "mm: <label> <value as signed decimal>\n", for counts,
# ids and errno results (addresses stay in hex)
say_dec:
    push rsi
    push rdi
    lea rdi, [rip + s_prefix]
    call console_puts
    pop rdi
    call console_puts
    pop rsi
    test rsi, rsi
    jns 1f
    push rsi
    mov dil, '-'
    call console_putc
    pop rsi
    neg rsi
1:  mov rdi, rsi
    call console_put_dec
    mov dil, 10
    call console_putc
    ret

# check_pattern(rdi = address): writes PATTERN there and reads it back; ZF set when equal
check_pattern:
    movabs rax, PATTERN
    mov [rdi], rax
    cmp [rdi], rax
    ret

.macro STEP label                           # prints label and rax; keeps rax
    push rax
    lea rdi, [rip + \label]
    mov rsi, rax
    call say
    pop rax
.endm

.macro STEP_DEC label                       # the same in decimal; keeps rax
    push rax
    lea rdi, [rip + \label]
    mov rsi, rax
    call say_dec
    pop rax
.endm

.global mm_demo
mm_demo:
    push rbx
    push r12
    push r13
    push r14
    push r15

    movabs rsi, offset kernel_phys_start
    movabs rdx, offset kernel_phys_end
    HYPERCALL HC_MM_INIT
    JUMP_IF_ERROR .Lfail
    mov edi, STAT_FREE_FRAMES
    HYPERCALL HC_MM_STAT
    STEP_DEC s_free_frames

    # Physical frames: 4 contiguous zeroed frames, used through the direct map.
    mov edi, 2
    mov esi, ALLOC_ZERO
    HYPERCALL HC_FRAME_ALLOC
    JUMP_IF_ERROR .Lfail
    mov r12, rax
    STEP s_frame_alloc
    mov edi, 2                            # HC_MM_STAT(2) = direct map base
    HYPERCALL HC_MM_STAT
    mov r15, rax                          # keep the direct map base
    lea rdi, [r15 + r12 + 3 * 4096]
    call check_pattern
    jne .Lfail
    mov rdi, r12
    mov esi, 2
    HYPERCALL HC_FRAME_FREE
    JUMP_IF_ERROR .Lfail
    STEP s_frame_free

    # kmalloc from a size class, from whole pages, and a zeroed one.
    mov edi, 24
    xor esi, esi
    HYPERCALL HC_KMALLOC
    JUMP_IF_ERROR .Lfail
    mov r12, rax
    STEP s_kmalloc_small
    mov rdi, r12
    call check_pattern
    jne .Lfail
    mov edi, 10000
    mov esi, ALLOC_ZERO
    HYPERCALL HC_KMALLOC
    JUMP_IF_ERROR .Lfail
    mov r13, rax
    STEP s_kmalloc_large
    cmp qword ptr [r13 + 9000], 0
    jne .Lfail
    lea rdi, [r13 + 9992]
    call check_pattern
    jne .Lfail
    mov rdi, r13
    HYPERCALL HC_KFREE
    JUMP_IF_ERROR .Lfail
    mov rdi, r12
    HYPERCALL HC_KFREE
    JUMP_IF_ERROR .Lfail
    STEP s_kfree
    mov rdi, r12                          # the same pointer again: must be refused
    HYPERCALL HC_KFREE
    STEP_DEC s_double_kfree
    cmp rax, -22
    jne .Lfail

    # A cache of our own.
    lea rdi, [rip + s_cache_name]
    mov esi, 48
    mov edx, 16
    xor r10d, r10d
    HYPERCALL HC_CACHE_CREATE
    JUMP_IF_ERROR .Lfail
    mov r14, rax
    STEP_DEC s_cache_create
    mov rdi, r14
    xor esi, esi
    HYPERCALL HC_CACHE_ALLOC
    JUMP_IF_ERROR .Lfail
    mov r12, rax
    STEP s_cache_alloc
    test r12, 15
    jnz .Lfail
    mov rdi, r12
    call check_pattern
    jne .Lfail
    mov rdi, r14
    mov rsi, r12
    HYPERCALL HC_CACHE_FREE
    JUMP_IF_ERROR .Lfail
    mov rdi, r14
    HYPERCALL HC_CACHE_DESTROY
    JUMP_IF_ERROR .Lfail
    STEP s_cache_destroy

    # vmalloc: three pages, virtually contiguous.
    mov edi, 3 * 4096
    HYPERCALL HC_VMALLOC
    JUMP_IF_ERROR .Lfail
    mov r12, rax
    STEP s_vmalloc
    mov rdi, r12
    call check_pattern
    jne .Lfail
    lea rdi, [r12 + 2 * 4096 + 4088]
    call check_pattern
    jne .Lfail
    mov rdi, r12
    HYPERCALL HC_VFREE
    JUMP_IF_ERROR .Lfail
    STEP s_vfree

    # vmmap a fresh frame at DEMO_VA, check translate, write, make it read-only, unmap.
    xor edi, edi
    mov esi, ALLOC_ZERO
    HYPERCALL HC_FRAME_ALLOC
    JUMP_IF_ERROR .Lfail
    mov r12, rax
    movabs rdi, DEMO_VA
    mov rsi, r12
    mov edx, PTE_WRITABLE
    HYPERCALL HC_VMMAP
    JUMP_IF_ERROR .Lfail
    movabs rdi, DEMO_VA + 0x10
    HYPERCALL HC_TRANSLATE
    lea rdx, [r12 + 0x10]
    cmp rax, rdx
    jne .Lfail
    STEP s_translate
    movabs rdi, DEMO_VA
    call check_pattern
    jne .Lfail
    movabs rdi, DEMO_VA
    xor esi, esi                          # read-only, supervisor, executable
    HYPERCALL HC_PROTECT
    JUMP_IF_ERROR .Lfail
    movabs rdi, DEMO_VA
    mov esi, 4096
    HYPERCALL HC_VMUNMAP
    cmp rax, r12
    jne .Lfail
    STEP s_vmunmap
    mov rdi, r12
    xor esi, esi
    HYPERCALL HC_FRAME_FREE
    JUMP_IF_ERROR .Lfail

    mov edi, STAT_FREE_FRAMES
    HYPERCALL HC_MM_STAT
    STEP_DEC s_free_frames
    xor eax, eax
    jmp .Lout
.Lfail:
    STEP s_failed
    mov eax, 1
.Lout:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    ret

.section .rodata, "a"
s_prefix:        .asciz "mm: "
s_free_frames:   .asciz "free frames "
s_frame_alloc:   .asciz "frame_alloc(order 2, zeroed) "
s_frame_free:    .asciz "frame_free "
s_kmalloc_small: .asciz "kmalloc(24) "
s_kmalloc_large: .asciz "kzalloc(10000) "
s_kfree:         .asciz "kfree both "
s_double_kfree:  .asciz "kfree again (must be -22) "
s_cache_name:    .asciz "kmain-objs"
s_cache_create:  .asciz "kmem_cache_create(kmain-objs, 48, 16) "
s_cache_alloc:   .asciz "kmem_cache_alloc "
s_cache_destroy: .asciz "kmem_cache_free + destroy "
s_vmalloc:       .asciz "vmalloc(12 KiB) "
s_vfree:         .asciz "vfree "
s_translate:     .asciz "vmmap + translate "
s_vmunmap:       .asciz "protect + vmunmap "
s_failed:        .asciz "FAILED, last result "
