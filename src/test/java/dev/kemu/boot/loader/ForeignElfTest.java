package dev.kemu.boot.loader;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** ELF kernels of both classes, linked the ways users link them, entered where a Multiboot loader enters them. */
class ForeignElfTest {
    private static final String HELLO = """
            .intel_syntax noprefix
            .section .multiboot, "a"
            .align 4
            .long 0x1BADB002, 0x3, -(0x1BADB002 + 0x3)
            .text
            .code32
            .global _start
            _start:
                cmp eax, 0x2BADB002
                jne 2f
                mov ecx, offset hello - OFFSET
            1:  mov al, [ecx]
                test al, al
                jz 2f
                out 0xe9, al
                inc ecx
                jmp 1b
            2:  mov al, 7
                out 0xf4, al
                hlt
            .section .rodata
            hello: .asciz "hello from a foreign kernel\\n"
            """;

    /** A higher-half ELF32: VMA 0xC0100000, LMA 1 MiB, and e_entry the entry's virtual address. */
    private static final String HIGHER_HALF_SCRIPT = """
            ENTRY(_start)
            SECTIONS
            {
                . = 0xC0100000;
                .text : AT(0x100000) { KEEP(*(.multiboot)) *(.text*) *(.rodata*) }
                /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame) }
            }
            """;

    @TempDir
    Path dir;

    private static RunResult boot(Path kernel, StringBuilder console) {
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
            RunResult result = boot.machine().run(boot.symbols().address("fw_entry"),
                    new RunLimits(1_000_000, Duration.ofSeconds(30)));
            console.append(boot.console().text());
            return result;
        }
    }

    @Test
    void elf64MultibootKernel_bootsUnderKemu_thoughQemuRefusesIt() {
        Path kernel = LoaderKernels.elf64(dir, "k64", HELLO.replace(" - OFFSET", ""));
        StringBuilder console = new StringBuilder();
        RunResult result = boot(kernel, console);
        assertEquals(StopReason.EXIT_PORT, result.reason(), result.detail());
        assertEquals("hello from a foreign kernel\n", console.toString());
        assertEquals(7, result.exitCode());
        if (LoaderKernels.qemuInstalled()) {
            LoaderKernels.QemuRun qemu = LoaderKernels.qemu(kernel, dir);
            assertNotEquals(7 << 1 | 1, qemu.status());
            assertTrue(qemu.output().contains("Cannot load x86-64 image, give a 32bit one"), qemu.output());
        }
    }

    @Test
    void strippedKernel_isEnteredAtItsElfEntry_noSymbolNeeded() {
        Path kernel = LoaderKernels.elf32(dir, "full", HELLO.replace(" - OFFSET", ""));
        Path stripped = dir.resolve("stripped.elf");
        LoaderKernels.run("objcopy", "--strip-all", kernel.toString(), stripped.toString());
        assertTrue(ElfImage.read(stripped).symbols().find("_start").isEmpty());
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(stripped), BootOptions.defaults())) {
            assertEquals(ElfImage.read(kernel).symbols().address("_start"), boot.runToKernelEntry().cpu().rip());
        }
        StringBuilder console = new StringBuilder();
        assertEquals(7, boot(stripped, console).exitCode());
        assertEquals("hello from a foreign kernel\n", console.toString());
    }

    @Test
    void higherHalfElf32WithVirtualEntry_isEnteredAtThePhysicalAddress_asUnderQemu() {
        Path kernel = LoaderKernels.elf32(dir, "hh", HELLO.replace("OFFSET", "0xC0000000"), HIGHER_HALF_SCRIPT);
        ElfImage image = ElfImage.read(kernel);
        assertEquals(0xC010000CL, image.entry(), "ELF32 addresses are zero-extended");
        assertEquals(0xC010000CL, image.symbols().address("_start"));
        assertEquals(0x10000CL, MultibootKernel.read(kernel).entry());
        StringBuilder console = new StringBuilder();
        RunResult result = boot(kernel, console);
        assertEquals(StopReason.EXIT_PORT, result.reason(), result.detail());
        assertEquals("hello from a foreign kernel\n", console.toString());
        assumeTrue(LoaderKernels.qemuInstalled(), "qemu-system-x86_64 is not installed");
        LoaderKernels.QemuRun qemu = LoaderKernels.qemu(kernel, dir);
        assertEquals(console.toString(), qemu.console(), qemu.output());
        assertEquals(7 << 1 | 1, qemu.status(), qemu.output());
    }
}
