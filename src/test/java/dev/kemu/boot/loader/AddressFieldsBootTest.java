package dev.kemu.boot.loader;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A kernel whose Multiboot header sets flag bit 16: the a.out-kludge address fields, not the ELF program headers
 * or entry, say what is loaded and where the kernel starts; with them even a flat binary (no ELF header) boots.
 */
class AddressFieldsBootTest {
    static final String KERNEL = """
            .intel_syntax noprefix
            .section .multiboot, "a"
            .align 4
            mb_header:
            .long 0x1BADB002, 0x10003, -(0x1BADB002 + 0x10003)
            .long mb_header, load_start, load_end, bss_end, kludge_entry

            .text
            .code32
            .global _start
            _start:                     # the ELF entry: a loader honouring bit 16 never runs this
                mov al, 0x99
                out 0xf4, al
            kludge_entry:
                cmp eax, 0x2BADB002
                jne 1f
                mov ecx, offset message
            2:  mov al, [ecx]
                test al, al
                jz 3f
                out 0xe9, al
                inc ecx
                jmp 2b
            3:  mov eax, [bss_word]     # zero-filled up to bss_end_addr
                add al, 0x22
                out 0xf4, al
            1:  hlt
                jmp 1b

            .section .rodata
            message: .asciz "entered at entry_addr\\n"
            .section .bss
            .align 4
            bss_word: .skip 8192
            """;
    static final String SCRIPT = """
            ENTRY(_start)
            SECTIONS
            {
                . = 0x100000;
                load_start = .;
                .text : { KEEP(*(.multiboot)) *(.text*) }
                .data : { *(.data*) *(.rodata*) }
                load_end = .;
                .bss : { *(.bss*) *(COMMON) }
                bss_end = .;
                /DISCARD/ : { *(.note*) *(.comment) *(.eh_frame) }
            }
            """;

    @TempDir
    static Path dir;
    static Path elf;
    static Path flat;

    @BeforeAll
    static void build() {
        elf = LoaderKernels.elf32(dir, "kludge", KERNEL, SCRIPT);
        flat = LoaderKernels.flatBinary(elf);
    }

    private static long symbol(String name) {
        return ElfImage.read(elf).symbols().address(name);
    }

    @Test
    void elfWithBit16_startsAtEntryAddr_notAtTheElfEntry() {
        MultibootKernel kernel = MultibootKernel.read(elf);
        assertNotEquals(ElfImage.read(elf).entry(), kernel.entry());
        assertEquals(symbol("kludge_entry"), kernel.entry());
        assertEquals(1, kernel.image().segments().size());
        assertEquals(symbol("load_start"), kernel.image().physicalStart());
        assertEquals(symbol("bss_end"), kernel.physicalEnd());
        assertEquals(new Run("entered at entry_addr\n", 0x22), underKemu(elf));
    }

    @Test
    void flatBinaryWithBit16_isLoadedAtLoadAddr_byteForByte() throws Exception {
        byte[] file = Files.readAllBytes(flat);
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(flat), BootOptions.defaults())) {
            RunResult atEntry = boot.runToKernelEntry();
            assertEquals(symbol("kludge_entry"), atEntry.cpu().rip());
            assertArrayEquals(file, boot.machine().ram().read(symbol("load_start"), file.length));
            assertEquals(0, boot.kernel().symbols().find("kludge_entry").stream().count(), "a flat binary has no symbols");
        }
        assertEquals(new Run("entered at entry_addr\n", 0x22), underKemu(flat));
    }

    @Test
    void bothForms_bootTheSameUnderQemu() {
        assumeTrue(LoaderKernels.qemuInstalled(), "qemu-system-x86_64 is not installed");
        for (Path kernel : new Path[]{elf, flat}) {
            LoaderKernels.QemuRun qemu = LoaderKernels.qemu(kernel, dir);
            Run kemu = underKemu(kernel);
            assertEquals(kemu.console(), qemu.console(), kernel + ": " + qemu.output());
            assertEquals(kemu.exitCode() << 1 | 1, qemu.status(), kernel + ": " + qemu.output());
        }
    }

    record Run(String console, int exitCode) {}

    static Run underKemu(Path kernel) {
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
            RunResult result = boot.machine().run(boot.symbols().address("fw_entry"),
                    new RunLimits(1_000_000, Duration.ofSeconds(30)));
            assertEquals(StopReason.EXIT_PORT, result.reason(), result.detail());
            return new Run(boot.console().text(), result.exitCode());
        }
    }
}
