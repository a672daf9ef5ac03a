package dev.kemu.testutil;

/**
 * Assembly pieces for test kernels (kmain bodies) that take CPU exceptions in the guest's own
 * handlers: an IDT gate, a TSS, a user page and the {@code iretq} into ring 3. The labels they
 * use ({@code idt}, {@code idtr}, {@code tss}, {@code gdt_tss}, {@code user_gdt},
 * {@code user_gdtr}, {@code rsp0_top}, {@code user_code}) come from {@link #IDT_DATA} and
 * {@link #RING3_DATA}, or from the test's own data where it needs another layout.
 */
public final class GuestTraps {
    /** Where {@link #userPage} maps the user page, and where {@link #ENTER_RING3} starts ring 3. */
    public static final long USER_PAGE = 0x0000_0080_0000_0000L;

    private GuestTraps() {}

    /** Makes {@code handler} the interrupt gate (CS 0x08, DPL 0) of {@code vector} and loads the IDT; uses RDI, RAX. */
    public static String gate(int vector, String handler) {
        return """
                    lea rdi, [rip + idt]
                    lea rax, [rip + %2$s]
                    mov word ptr [rdi + %1$d * 16], ax          # offset 15..0
                    mov word ptr [rdi + %1$d * 16 + 2], 0x08    # selector
                    mov word ptr [rdi + %1$d * 16 + 4], 0x8E00  # present, DPL 0, interrupt gate
                    shr rax, 16
                    mov word ptr [rdi + %1$d * 16 + 6], ax      # offset 31..16
                    shr rax, 16
                    mov dword ptr [rdi + %1$d * 16 + 8], eax    # offset 63..32
                    lidt [rip + idtr]
                """.formatted(vector, handler);
    }

    /** Writes the 16-byte system descriptor of the 64-bit TSS at {@code tss} into {@code gdt_tss}; uses RAX. */
    public static final String TSS_DESCRIPTOR = """
                lea rax, [rip + tss]
                mov word ptr [rip + gdt_tss], 0x67            # limit
                mov word ptr [rip + gdt_tss + 2], ax           # base 15..0
                shr rax, 16
                mov byte ptr [rip + gdt_tss + 4], al           # base 23..16
                mov byte ptr [rip + gdt_tss + 5], 0x89         # present, 64-bit available TSS
                mov byte ptr [rip + gdt_tss + 7], ah           # base 31..24
                shr rax, 16
                mov dword ptr [rip + gdt_tss + 8], eax         # base 63..32
            """;

    /** RSP0 = {@code rsp0_top} in the TSS, the GDT with user segments and the TSS (0x28) loaded; uses RAX. */
    public static final String RING0_STACK_FOR_RING3 = """
                lea rax, [rip + rsp0_top]
                mov [rip + tss + 4], rax                       # RSP0
            """ + TSS_DESCRIPTOR + """
                lgdt [rip + user_gdtr]
                mov ax, 0x28
                ltr ax
            """;

    /**
     * Maps a zeroed user page at {@link #USER_PAGE} (PML4 slot 1: the tables vmmap makes there
     * allow user access) and copies the first {@code quads} 8-byte words of {@code user_code}
     * into it through the direct map; needs HC_MM_INIT done; uses RAX, RCX, RDX, RSI, RDI, R12.
     */
    public static String userPage(int quads) {
        StringBuilder copy = new StringBuilder("""
                    xor edi, edi
                    mov esi, ALLOC_ZERO
                    HYPERCALL HC_FRAME_ALLOC
                    mov r12, rax                       # frame for user code and stack
                    mov rsi, rax
                    movabs rdi, 0x%x
                    mov edx, PTE_WRITABLE | 4          # user page
                    HYPERCALL HC_VMMAP
                    mov edi, 2
                    HYPERCALL HC_MM_STAT               # direct map base
                    add rax, r12
                """.formatted(USER_PAGE));
        for (int i = 0; i < quads; i++) {
            copy.append("""
                        mov rcx, [rip + user_code + %1$d]
                        mov [rax + %1$d], rcx
                    """.formatted(8 * i));
        }
        return copy.toString();
    }

    /** {@code iretq} to ring 3 at {@link #USER_PAGE}, stack at its end (user data 0x1b, user code 0x23). */
    public static final String ENTER_RING3 = """
                push 0x1b                          # SS: user data, RPL 3
                movabs rax, 0x%x
                push rax                           # RSP
                push 0x2                           # RFLAGS
                push 0x23                          # CS: user code, RPL 3
                movabs rax, 0x%x
                push rax                           # RIP
                iretq
            """.formatted(USER_PAGE + 0xff0, USER_PAGE);

    /** The IDT ({@code idt}, 256 gates, zero) and its pseudo-descriptor {@code idtr}. */
    public static final String IDT_DATA = """
            .section .data
            .align 16
            idtr:
                .word 256 * 16 - 1
                .quad idt
            .section .bss
            .align 16
            idt: .skip 256 * 16
            """;

    /** kemu's flat GDT with user segments and a TSS slot (0x28), the TSS, and a ring-0 stack for it. */
    public static final String RING3_DATA = """
            .section .data
            .align 16
            user_gdt:
                .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cff2000000ffff, 0x00affa000000ffff
            gdt_tss:
                .quad 0, 0
            user_gdtr:
                .word 7 * 8 - 1
                .quad user_gdt
            .align 16
            tss: .skip 0x68
            .section .bss
            .align 16
            rsp0_stack: .skip 4096
            rsp0_top:
            """;
}
