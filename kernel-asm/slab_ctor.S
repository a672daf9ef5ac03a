# kmem_cache_alloc for caches with a guest constructor (docs/ABI.md, "Slab constructors").
# A hypercall cannot run guest code inside Unicorn's hook, so the allocator only hands out the
# objects of a newly populated slab and this stub calls the constructor on each, in guest code,
# before returning: objects are constructed once per slab population (Bonwick), not per alloc.
.intel_syntax noprefix
.include "kemu.inc"
.section .text, "ax"
.code64

# u64 kmem_cache_alloc(u64 cache, u64 flags): an object, or a negative errno (JUMP_IF_ERROR).
# The constructor is called as void ctor(void *object), System V: it may clobber caller-saved
# registers; the stub keeps rbx, r12, r13 and a 16-byte aligned stack at each call.
.global kmem_cache_alloc
kmem_cache_alloc:
    push rbx
    push r12
    push r13
    mov rbx, rdi
    HYPERCALL HC_CACHE_ALLOC
    mov r12, rax
    cmp rax, -4095
    jae 3f                              # an errno: nothing was populated
    mov rdi, rbx
    HYPERCALL HC_CACHE_CTOR
    mov r13, rax                        # 0: no guest constructor, the loop ends at once
1:  test r13, r13
    jz 3f
    mov rdi, rbx
    HYPERCALL HC_CACHE_CTOR_NEXT
    test rax, rax
    jz 3f                               # every object of the current slab is constructed
    cmp rax, -4095
    jae 3f
    mov rdi, rax
    call r13
    jmp 1b
3:  mov rax, r12
    pop r13
    pop r12
    pop rbx
    ret
