package dev.kemu.traps;

import dev.kemu.toolchain.GnuLinker;
import dev.kemu.toolchain.ToolchainException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small Multiboot kernel that stays in 32-bit protected mode (paging off) and handles its
 * own exceptions through 32-bit IDT gates: each handler prints the vector, the error code (for
 * the vectors that push one), the pushed EIP and the interrupted CPL to the debug console
 * (port 0xE9) and returns with {@code iret}, stepping over the faulting instruction. The last
 * fault comes from ring 3 (an SS0:ESP0 switch from the TSS); its handler also prints the pushed
 * SS:ESP and exits through port 0xF4 with {@link #EXIT_VALUE}.
 *
 * <p>Built twice from one source by the real {@code as}/{@code ld}: as an ELF64 container (how
 * kemu's own kernel carries its 32-bit entry; kemu loads ELF64) and as ELF32 i386 (what
 * {@code qemu-system-x86_64 -kernel} takes). Both have the same layout, so the printed EIPs agree.
 */
final class ProtectedModeKernel {
    static final int EXIT_VALUE = 0x21;
    static final long USER_STACK_TOP = 0x180000;

    private ProtectedModeKernel() {}

    static final String SOURCE = """
            .intel_syntax noprefix
            .set MB_MAGIC, 0x1BADB002
            .set MB_FLAGS, 0
            .section .multiboot, "a"
            .align 4
                .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

            .macro SET_GATE vector, handler, attr
                mov eax, offset \\handler
                mov word ptr [idt + \\vector * 8], ax
                mov word ptr [idt + \\vector * 8 + 2], 0x08
                mov word ptr [idt + \\vector * 8 + 4], \\attr
                shr eax, 16
                mov word ptr [idt + \\vector * 8 + 6], ax
            .endm
            # A stub per vector: the error code (or a dummy), then vector | has-error << 8.
            .macro ISR vector, error
            isr_\\vector:
                .if \\error == 0
                push 0
                .endif
                push \\vector | (\\error << 8)
                jmp common_handler
            .endm
            # Arms the handler to resume at 1f when the next instruction faults.
            .macro RESUME_AT label
                mov dword ptr [resume], offset \\label
            .endm

            .section .text, "ax"
            .code32
            .global _start, kmain, boot_paging_on, long_mode_entry, higher_half_entry, kernel_tables_on
            _start:
                cli
                lgdt [gdtr]
                push 0x08
                push offset reload
                retf
            reload:
                mov ax, 0x10
                mov ds, ax
                mov es, ax
                mov fs, ax
                mov gs, ax
                mov ss, ax
                mov esp, offset stack_top
            kmain:                                   # kernel mode from here (kemu remembers it)
                SET_GATE 0, isr_0, 0x8E00
                SET_GATE 1, isr_1, 0x8E00
                SET_GATE 3, isr_3, 0x8F00            # trap gate
                SET_GATE 4, isr_4, 0x8F00
                SET_GATE 5, isr_5, 0x8E00
                SET_GATE 6, isr_6, 0x8E00
                SET_GATE 7, isr_7, 0x8E00
                SET_GATE 10, isr_10, 0x8E00
                SET_GATE 11, isr_11, 0x8E00
                SET_GATE 12, isr_12, 0x8E00
                SET_GATE 13, isr_13, 0x8E00
                SET_GATE 16, isr_16, 0x8E00
                lidt [idtr]
                mov eax, offset tss                  # TSS descriptor 0x28: base, limit 0x67, type 9
                mov word ptr [gdt_tss + 2], ax
                shr eax, 16
                mov byte ptr [gdt_tss + 4], al
                mov byte ptr [gdt_tss + 7], ah
                mov dword ptr [tss + 4], offset kstack2_top   # ESP0
                mov dword ptr [tss + 8], 0x10                 # SS0
                mov ax, 0x28
                ltr ax

                RESUME_AT 1f
                xor ecx, ecx
                div ecx                              # #DE
            1:  pushfd
                or dword ptr [esp], 0x100
                popfd
                nop                                  # #DB after it (single step)
                int3                                 # #BP, a trap
                mov al, 0x7f
                add al, 1
                into                                 # #OF, a trap
                RESUME_AT 1f
                mov eax, 5
                bound eax, [bounds]                  # #BR
            1:  RESUME_AT 1f
                ud2                                  # #UD
            1:  RESUME_AT 1f
                mov eax, cr0
                or eax, 8
                mov cr0, eax
                fld1                                 # #NM (CR0.TS)
            1:  RESUME_AT 1f
                mov ax, 0x1230
                mov ds, ax                           # #GP(0x1230): past the GDT limit
            1:  RESUME_AT 1f
                mov ax, 0x30
                mov ds, ax                           # #NP(0x30)
            1:  RESUME_AT 1f
                mov ax, 0x30
                mov ss, ax                           # #SS(0x30)
            1:  RESUME_AT 1f
                mov word ptr [tss], 0x0c             # back link with TI set
                pushfd
                or dword ptr [esp], 0x4000
                popfd
                iretd                                # NT set: a task return, #TS(0x0c)
            1:  pushfd
                and dword ptr [esp], ~0x4000
                popfd
                RESUME_AT 1f
                mov eax, cr0
                or eax, 0x20
                and eax, ~0xc
                mov cr0, eax
                fninit
                fldcw [control_word]
                fldz
                fld1
                fdiv st, st(1)
                fwait                                # #MF (CR0.NE)
            1:  mov dword ptr [resume], 0
                push 0x23                            # SS: user data
                push 0x180000                        # ESP
                push 0x2                             # EFLAGS
                push 0x1b                            # CS: user code
                push offset user_code
                iretd
            user_code:
                ud2                                  # #UD at CPL 3: SS0:ESP0 from the TSS

            ISR 0, 0
            ISR 1, 0
            ISR 3, 0
            ISR 4, 0
            ISR 5, 0
            ISR 6, 0
            ISR 7, 0
            ISR 10, 1
            ISR 11, 1
            ISR 12, 1
            ISR 13, 1
            ISR 16, 0

            # Stack: edi..eax (pushad), vector | flag, error, EIP, CS, EFLAGS [, ESP, SS from ring 3].
            common_handler:
                pushad
                mov ebx, esp
                mov esi, offset text_vector
                call puts
                movzx eax, byte ptr [ebx + 32]
                call put_hex
                test dword ptr [ebx + 32], 0x100
                jz 2f
                mov esi, offset text_error
                call puts
                mov eax, [ebx + 36]
                call put_hex
            2:  mov esi, offset text_eip
                call puts
                mov eax, [ebx + 40]
                call put_hex
                mov esi, offset text_cpl
                call puts
                mov eax, [ebx + 44]
                and eax, 3
                call put_hex
                cmp eax, 3
                je from_user
                mov al, 10
                out 0xe9, al
                and dword ptr [ebx + 48], ~0x100     # clear TF in the frame (single step once)
                clts
                fnclex
                mov eax, [resume]
                test eax, eax
                jz 3f
                mov [ebx + 40], eax                  # step over the faulting instruction
                mov dword ptr [resume], 0
            3:  popad
                add esp, 8
                iretd
            from_user:
                mov esi, offset text_stack
                call puts
                mov eax, [ebx + 56]
                call put_hex
                mov al, ':'
                out 0xe9, al
                mov eax, [ebx + 52]
                call put_hex
                mov al, 10
                out 0xe9, al
                mov al, EXIT_VALUE
                out 0xf4, al
                hlt

            puts:                                    # esi: NUL-terminated text
                lodsb
                test al, al
                jz 1f
                out 0xe9, al
                jmp puts
            1:  ret
            put_hex:                                 # eax, as 8 hex digits
                mov ecx, 8
            1:  rol eax, 4
                mov edx, eax
                and edx, 0xf
                mov dl, [hex_digits + edx]
                xchg eax, edx
                out 0xe9, al
                xchg eax, edx
                loop 1b
                ret

            boot_paging_on:                          # stage markers kemu's boot observer knows; never reached
            long_mode_entry:
            higher_half_entry:
            kernel_tables_on:
                hlt

            .section .data
            .align 8
            gdt:
                .quad 0
                .quad 0x00cf9a000000ffff             # 0x08 kernel code
                .quad 0x00cf92000000ffff             # 0x10 kernel data
                .quad 0x00cffa000000ffff             # 0x18 user code (0x1b)
                .quad 0x00cff2000000ffff             # 0x20 user data (0x23)
            gdt_tss:
                .quad 0x0000890000000067             # 0x28 TSS (base filled in)
                .quad 0x00cf12000000ffff             # 0x30 data, not present
            gdt_end:
            gdtr:
                .word gdt_end - gdt - 1
                .long gdt
            idtr:
                .word 256 * 8 - 1
                .long idt
            bounds: .long 0, 3
            control_word: .word 0x037b               # x87 zero-divide unmasked
            resume: .long 0
            hex_digits: .ascii "0123456789abcdef"
            text_vector: .asciz "vector "
            text_error: .asciz " error "
            text_eip: .asciz " eip "
            text_cpl: .asciz " cpl "
            text_stack: .asciz " ss:esp "
            .section .bss
            .align 16
            idt: .skip 256 * 8
            tss: .skip 0x68
            .skip 4096
            stack_top:
            .skip 4096
            kstack2_top:
            """.replace("EXIT_VALUE", "0x" + Integer.toHexString(EXIT_VALUE));

    /** An ELF64 container (for kemu) or an ELF32 i386 image (for QEMU) of {@link #SOURCE}. */
    static Path build(Path dir, boolean elf64) {
        return build(dir, elf64, SOURCE);
    }

    /** A variant of the kernel ({@code text} derived from {@link #SOURCE}). */
    static Path build(Path dir, boolean elf64, String text) {
        try {
            Path source = dir.resolve("pm-kernel.S");
            Files.writeString(source, text);
            String suffix = elf64 ? "64" : "32";
            Path object = dir.resolve("pm-kernel" + suffix + ".o");
            run(List.of("as", elf64 ? "--64" : "--32", "-o", object.toString(), source.toString()));
            Path script = dir.resolve("pm-kernel" + suffix + ".ld");
            Files.writeString(script, "OUTPUT_FORMAT(" + (elf64 ? "elf64-x86-64" : "elf32-i386") + ")\n"
                    + "ENTRY(_start)\nSECTIONS {\n . = 0x100000;\n .text : { KEEP(*(.multiboot)) *(.text*) }\n"
                    + " .data : { *(.data*) }\n .bss : { *(.bss*) }\n /DISCARD/ : { *(.note*) }\n}\n");
            Path elf = dir.resolve("pm-kernel" + suffix + ".elf");
            new GnuLinker("ld", elf64 ? List.of() : List.of("-m", "elf_i386")).link(List.of(object), script, elf);
            return elf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new ToolchainException(String.join(" ", command) + " failed: " + output, List.of());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + command, e);
        }
    }
}
