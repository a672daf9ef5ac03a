package dev.kemu.boot.loader;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootModule;
import dev.kemu.elf.ElfFormatException;
import dev.kemu.kernel.MultibootLayout;
import dev.kemu.kernel.MultibootMemoryMap;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Boot modules ({@code --module FILE[=CMDLINE]}): loaded page-aligned after the kernel and listed in the info block. */
class ModulesTest {
    /** Prints what it finds through mods_count/mods_addr: size, page offset, first word and string of each module. */
    static final String KERNEL = ".intel_syntax noprefix\n" + LoaderKernels.HEADER + LoaderKernels.REPORTING + """
            .text
            .code32
            .global _start
            _start:
                mov esp, offset stack_top
                mov esi, ebx
                mov eax, [esi + 20]
                FIELD "mods_count="
                mov edi, [esi + 24]
                mov ebx, [esi + 20]
            1:  test ebx, ebx
                jz 2f
                mov eax, [edi + 4]
                sub eax, [edi]
                FIELD "size="
                mov eax, [edi]
                and eax, 0xfff
                FIELD "page_offset="
                mov eax, [edi]
                cmp eax, offset kernel_end
                setae al
                movzx eax, al
                FIELD "after_kernel="
                mov eax, [edi]
                mov eax, [eax]
                FIELD "first_word="
                mov ecx, [edi + 8]
                call puts
                mov al, 10
                out 0xe9, al
                add edi, 16
                dec ebx
                jmp 1b
            2:  mov al, 0
                out 0xf4, al
            3:  hlt
                jmp 3b

            .section .bss
            .align 16
                .skip 4096
            stack_top:
            kernel_end:
            """;

    @TempDir
    Path dir;

    private Path module(String name, int size, int seed) throws Exception {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (seed + i * 7);
        }
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void modules_arePageAlignedAfterTheKernel_withTheirCommandLines() throws Exception {
        Path kernel = LoaderKernels.elf32(dir, "mods", KERNEL);
        Path first = module("first.bin", 5000, 1), second = module("second.bin", 12, 9);
        BootOptions options = BootOptions.defaults().withModules(List.of(MultibootModule.parse(first + "=root=/dev/kemu quiet"),
                MultibootModule.parse(second.toString())));
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), options)) {
            boot.runToKernelEntry();
            GuestRam ram = boot.machine().ram();
            long info = boot.machine().register(X86Reg.EBX);
            assertTrue((ram.read32(info + MultibootLayout.MBI_FLAGS) & MultibootLayout.MBI_FLAG_MODS) != 0);
            assertEquals(2, ram.read32(info + MultibootLayout.MBI_MODS_COUNT));
            long table = Integer.toUnsignedLong(ram.read32(info + MultibootLayout.MBI_MODS_ADDR));
            long previousEnd = boot.kernel().physicalEnd();
            String[] lines = {"root=/dev/kemu quiet", second.toString()};
            Path[] files = {first, second};
            for (int i = 0; i < 2; i++) {
                long entry = table + (long) i * MultibootLayout.MOD_ENTRY_BYTES;
                long start = Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_START));
                long end = Integer.toUnsignedLong(ram.read32(entry + MultibootLayout.MOD_END));
                byte[] expected = Files.readAllBytes(files[i]);
                assertEquals(0, start & 0xfff, "module " + i + " page-aligned");
                assertTrue(start >= previousEnd, "module " + i + " after the kernel and the module before it");
                assertEquals(expected.length, end - start, "mod_end is exclusive");
                assertArrayEquals(expected, ram.read(start, expected.length));
                assertEquals(lines[i], ram.readCString(Integer.toUnsignedLong(
                        ram.read32(entry + MultibootLayout.MOD_CMDLINE)), 256));
                assertEquals(0, ram.read32(entry + MultibootLayout.MOD_RESERVED));
                List<PhysRange> kept = MultibootMemoryMap.read(ram, info).bootPages();
                assertTrue(kept.stream().anyMatch(r -> r.start().value() <= start && r.end().value() >= end),
                        "module " + i + " kept from the frame allocator: " + kept);
                previousEnd = end;
            }
        }
    }

    @Test
    void moduleTooLargeForRam_namesTheModuleAndTheFix() throws Exception {
        Path kernel = LoaderKernels.elf32(dir, "mods", KERNEL);
        Path big = module("big.bin", 3 << 20, 0);
        BootOptions options = BootOptions.defaults().withRam(4L << 20).withModules(List.of(MultibootModule.parse(big.toString())));
        ElfFormatException e = assertThrows(ElfFormatException.class,
                () -> new KernelBoot(LoaderKernels.withFirmware(kernel), options).close());
        assertTrue(e.getMessage().startsWith("module " + big + " (3145728 bytes) does not fit: it would take [P0x102000-"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("but usable guest RAM ends at P0x3e0000; give the guest more RAM (--ram)"),
                e.getMessage());
    }

    @Test
    void moduleArgument_splitsAtTheFirstEquals() {
        assertEquals(new MultibootModule(Path.of("initrd.img"), "a=b c"), MultibootModule.parse("initrd.img=a=b c"));
        assertEquals(new MultibootModule(Path.of("initrd.img"), "initrd.img"), MultibootModule.parse("initrd.img"));
        assertEquals(new MultibootModule(Path.of("initrd.img"), ""), MultibootModule.parse("initrd.img="));
        assertEquals("--module =x: no file before '='; use --module FILE[=CMDLINE]",
                assertThrows(IllegalArgumentException.class, () -> MultibootModule.parse("=x")).getMessage());
    }

    @Test
    void modulesSeenByTheKernel_matchQemusInitrdModules() throws Exception {
        assumeTrue(LoaderKernels.qemuInstalled(), "qemu-system-x86_64 is not installed");
        Path kernel = LoaderKernels.elf32(dir, "mods", KERNEL);
        Path first = module("first.bin", 5000, 1), second = module("second.bin", 12, 9);
        BootOptions options = BootOptions.defaults().withModules(List.of(MultibootModule.parse(first.toString()),
                MultibootModule.parse(second.toString())));
        String kemu;
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), options)) {
            RunResult result = boot.machine().run(boot.symbols().address("fw_entry"),
                    new RunLimits(1_000_000, Duration.ofSeconds(30)));
            assertEquals(StopReason.EXIT_PORT, result.reason(), result.detail());
            kemu = boot.console().text();
        }
        assertTrue(kemu.startsWith("mods_count=00000002\nsize=00001388\npage_offset=00000000\nafter_kernel=00000001\n"), kemu);
        LoaderKernels.QemuRun qemu = LoaderKernels.qemu(kernel, dir, "-initrd", first + "," + second);
        assertEquals(kemu, qemu.console(), qemu.output());
        assertEquals(1, qemu.status());
    }
}
