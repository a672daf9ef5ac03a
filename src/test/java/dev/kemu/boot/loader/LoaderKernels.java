package dev.kemu.boot.loader;

import dev.kemu.boot.KernelSources;
import dev.kemu.testutil.TestKernels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tiny foreign kernels for the loader tests, built with the real toolchain: GNU {@code as --32} and
 * {@code ld -m elf_i386} (an i386 ELF32, the form {@code qemu-system-x86_64 -kernel} takes), or {@code --64} and
 * {@code elf_x86_64}. None has kemu's stage symbols; each is linked at 1 MiB with its Multiboot header first.
 */
final class LoaderKernels {
    /** A linker script that puts {@code .multiboot} first and everything at 1 MiB (VMA = LMA). */
    static final String SCRIPT = """
            ENTRY(_start)
            SECTIONS
            {
                . = 0x100000;
                .text : { KEEP(*(.multiboot)) *(.text*) }
                .data : { *(.data*) *(.rodata*) }
                .bss : { *(.bss*) *(COMMON) }
                /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame) }
            }
            """;

    /** The header of a kernel that asks for modules page-aligned and memory information (flags 0x3). */
    static final String HEADER = header(0x3);

    /**
     * Routines for kernels that report facts on the debug console: {@code FIELD "label="} prints the label and EAX as
     * 8 hex digits and a newline, {@code puts} the NUL-terminated string at ECX; both keep every register. The
     * macro must come before its uses, so this goes right after the header.
     */
    static final String REPORTING = """
                .macro FIELD text
                    .pushsection .rodata
                9:  .asciz "\\text"
                    .popsection
                    mov ecx, offset 9b
                    call field
                .endm

                .pushsection .text
                puts:
                    push eax
                8:  mov al, [ecx]
                    test al, al
                    jz 7f
                    out 0xe9, al
                    inc ecx
                    jmp 8b
                7:  pop eax
                    ret

                field:
                    pushad
                    call puts
                    mov ecx, 8
                6:  rol eax, 4
                    mov edx, eax
                    and edx, 0xf
                    mov dl, [hexdigits + edx]
                    xchg eax, edx
                    out 0xe9, al
                    xchg eax, edx
                    loop 6b
                    mov al, 10
                    out 0xe9, al
                    popad
                    ret
                .popsection
                .pushsection .rodata
                hexdigits: .ascii "0123456789abcdef"
                .popsection
                """;

    private LoaderKernels() {}

    static String header(int flags) {
        return String.format("""
                .section .multiboot, "a"
                .align 4
                .long 0x1BADB002, 0x%x, -(0x1BADB002 + 0x%x)
                """, flags, flags);
    }

    static Path elf32(Path dir, String name, String source) {
        return build(dir, name, source, SCRIPT, "--32", "elf_i386");
    }

    static Path elf32(Path dir, String name, String source, String script) {
        return build(dir, name, source, script, "--32", "elf_i386");
    }

    static Path elf64(Path dir, String name, String source) {
        return build(dir, name, source, SCRIPT, "--64", "elf_x86_64");
    }

    /** The raw bytes of {@code elf}'s loadable sections ({@code objcopy -O binary}): a kernel with no ELF header. */
    static Path flatBinary(Path elf) {
        Path binary = elf.resolveSibling(elf.getFileName() + ".bin");
        run("objcopy", "-O", "binary", elf.toString(), binary.toString());
        return binary;
    }

    /** kemu's firmware stub with {@code kernel} as the kernel. */
    static KernelSources.BuiltImages withFirmware(Path kernel) {
        return new KernelSources.BuiltImages(TestKernels.defaultKernel().firmware(), kernel);
    }

    private static Path build(Path dir, String name, String source, String script, String asFlag, String emulation) {
        try {
            Path asm = Files.writeString(dir.resolve(name + ".S"), source);
            Path object = dir.resolve(name + ".o");
            Path lds = Files.writeString(dir.resolve(name + ".ld"), script);
            Path elf = dir.resolve(name + ".elf");
            run("as", asFlag, "-o", object.toString(), asm.toString());
            run("ld", "-m", emulation, "-nostdlib", "-T", lds.toString(), "-o", elf.toString(), object.toString());
            return elf;
        } catch (IOException e) {
            throw new AssertionError("writing the sources of " + name + " in " + dir, e);
        }
    }

    static String run(String... command) {
        try {
            Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(true, process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
            assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + output);
            return output;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static boolean qemuInstalled() {
        try {
            return new ProcessBuilder("sh", "-c", "command -v qemu-system-x86_64").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code qemu-system-x86_64 -kernel} with the debug console in a file and the isa-debug-exit device. */
    static QemuRun qemu(Path kernel, Path dir, String... extra) {
        try {
            Path console = dir.resolve(kernel.getFileName() + ".debugcon");
            List<String> command = new ArrayList<>(List.of("qemu-system-x86_64", "-kernel", kernel.toString(), "-m", "64M",
                    "-display", "none", "-debugcon", "file:" + console, "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                    "-no-reboot", "-serial", "none", "-monitor", "none"));
            command.addAll(List.of(extra));
            Process qemu = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(qemu.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(true, qemu.waitFor(60, TimeUnit.SECONDS), "QEMU did not finish: " + output);
            return new QemuRun(qemu.exitValue(), Files.readString(console, StandardCharsets.ISO_8859_1), output);
        } catch (IOException e) {
            throw new AssertionError("cannot run qemu-system-x86_64", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    record QemuRun(int status, String console, String output) {}
}
