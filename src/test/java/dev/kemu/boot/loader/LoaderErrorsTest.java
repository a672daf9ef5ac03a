package dev.kemu.boot.loader;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.MultibootKernel;
import dev.kemu.elf.ElfFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kernels a Multiboot loader cannot boot: one line naming the file, what is wrong and what to do. */
class LoaderErrorsTest {
    private static final String BODY = """
            .text
            .code32
            .global _start
            _start:
                hlt
            """;

    @TempDir
    Path dir;

    private static ElfFormatException loadError(Path kernel) {
        return assertThrows(ElfFormatException.class, () -> {
            try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
                boot.runToKernelEntry();
            }
        });
    }

    @Test
    void elfWithoutHeader_isNotAMultibootImage() {
        Path kernel = LoaderKernels.elf32(dir, "plain", ".intel_syntax noprefix\n" + BODY);
        assertEquals(kernel + ": not a Multiboot image: no Multiboot header (magic 0x1BADB002, flags, checksum with a "
                + "zero sum) at a 4-byte boundary in the first 8 KiB of the file; place the header in a section the "
                + "linker script puts first", loadError(kernel).getMessage());
    }

    @Test
    void headerAfterTheFirst8KiBOfTheFile_isNotFound() {
        Path kernel = LoaderKernels.elf32(dir, "late", """
                .intel_syntax noprefix
                .section .multiboot, "a"
                .skip 8192
                .long 0x1BADB002, 0x3, -(0x1BADB002 + 0x3)
                """ + BODY);
        assertTrue(loadError(kernel).getMessage().contains(": not a Multiboot image: no Multiboot header"));
    }

    @Test
    void wrongChecksum_isNotAHeader() {
        Path kernel = LoaderKernels.elf32(dir, "checksum", ".intel_syntax noprefix\n" + LoaderKernels.header(3)
                .replace("-(0x1BADB002 + 0x3)", "-(0x1BADB002 + 0x2)") + BODY);
        assertTrue(loadError(kernel).getMessage().contains(": not a Multiboot image"));
    }

    @Test
    void armElf_isNotX86() throws Exception {
        Path kernel = LoaderKernels.elf32(dir, "arm", ".intel_syntax noprefix\n" + LoaderKernels.HEADER + BODY);
        byte[] bytes = Files.readAllBytes(kernel);
        bytes[18] = 40; // EM_ARM
        Path arm = Files.write(dir.resolve("arm-kernel.elf"), bytes);
        assertEquals(arm + ": e_machine 40 is not i386 (3)", loadError(arm).getMessage());
    }

    @Test
    void truncatedElf_saysTruncated() throws Exception {
        Path kernel = LoaderKernels.elf32(dir, "cut", ".intel_syntax noprefix\n" + LoaderKernels.HEADER + BODY);
        byte[] bytes = Files.readAllBytes(kernel);
        Path cut = Files.write(dir.resolve("cut-kernel.elf"), Arrays.copyOf(bytes, 0x1004));
        assertTrue(loadError(cut).getMessage().startsWith(cut + ": truncated ELF: "), loadError(cut).getMessage());
    }

    @Test
    void flatBinaryCutBeforeLoadEndAddr_saysTruncated() throws Exception {
        Path elf = LoaderKernels.elf32(dir, "kludge", AddressFieldsBootTest.KERNEL, AddressFieldsBootTest.SCRIPT);
        byte[] flat = Files.readAllBytes(LoaderKernels.flatBinary(elf));
        Path cut = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(flat, flat.length - 8));
        String message = loadError(cut).getMessage();
        assertEquals(String.format("%s: truncated Multiboot image: load_addr 0x100000..load_end_addr 0x%x needs file "
                + "bytes [0x0, 0x%x) but the file has 0x%x", cut, 0x100000 + flat.length, flat.length, flat.length - 8),
                message);
    }

    @Test
    void scriptWithoutHeader_saysItIsNeitherElfNorMultiboot() throws Exception {
        Path script = Files.writeString(dir.resolve("kernel.sh"), "#!/bin/sh\necho not a kernel\n".repeat(8));
        assertTrue(loadError(script).getMessage().startsWith(script + ": not a Multiboot image: not an ELF file, and no "
                + "Multiboot header (magic 0x1BADB002"), loadError(script).getMessage());
    }

    @Test
    void flatBinaryWithoutAddressFields_saysSoAndWhatToDo() throws Exception {
        byte[] file = new byte[64];
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x1BADB002).putInt(4, 3).putInt(8, -(0x1BADB002 + 3));
        Path raw = Files.write(dir.resolve("raw.bin"), file);
        assertEquals(raw + ": not an ELF file, and its Multiboot header at file offset 0x0, flags 0x00000003 does not "
                + "set bit 16 (address fields), so nothing says where to load it; link it as ELF or fill the address "
                + "fields", loadError(raw).getMessage());
    }

    @Test
    void segmentBeyondGuestRam_namesTheSegmentAndTheFix() {
        Path kernel = LoaderKernels.elf32(dir, "high", ".intel_syntax noprefix\n" + LoaderKernels.HEADER + BODY,
                LoaderKernels.SCRIPT.replace("0x100000", "0x8000000"));
        String message = loadError(kernel).getMessage();
        assertTrue(message.startsWith(kernel + ": segment LOAD V0x8000000 <- P0x8000000"), message);
        assertTrue(message.endsWith("does not fit in guest RAM of 0x4000000 bytes; link it lower or give the guest "
                + "more RAM (--ram)"), message);
    }

    @Test
    void segmentOverKemusFirmware_isRefused() {
        Path kernel = LoaderKernels.elf32(dir, "low", ".intel_syntax noprefix\n" + LoaderKernels.HEADER + BODY,
                LoaderKernels.SCRIPT.replace("0x100000", "0x8000"));
        String message = loadError(kernel).getMessage();
        assertTrue(message.startsWith(kernel + ": segment LOAD V0x8000 <- P0x8000"), message);
        assertTrue(message.contains("overlaps [P0x7000-P0x"), message);
        assertTrue(message.endsWith("where kemu keeps the Multiboot information and its firmware stub; link the kernel "
                + "at 1 MiB (0x100000) or above"), message);
    }

    @Test
    void undefinedRequirementBit_isRefusedAsTheSpecificationDemands() {
        Path kernel = LoaderKernels.elf32(dir, "bit3", ".intel_syntax noprefix\n" + LoaderKernels.header(0x8) + BODY);
        assertEquals(kernel + ": Multiboot header at file offset 0x1000, flags 0x00000008 requires features 0x0008 "
                + "(flags bits 3-15) that the Multiboot 0.6.96 specification does not define, so no loader may boot it; "
                + "clear those bits", loadError(kernel).getMessage());
    }

    @Test
    void videoModeRequest_isANoteNotARefusal() {
        Path kernel = LoaderKernels.elf32(dir, "video", ".intel_syntax noprefix\n" + LoaderKernels.header(0x7) + BODY);
        MultibootKernel multiboot = MultibootKernel.read(kernel);
        assertEquals(1, multiboot.notes().size());
        assertTrue(multiboot.notes().getFirst().startsWith("the Multiboot header asks for a video mode (flags bit 2)"));
        try (KernelBoot boot = new KernelBoot(LoaderKernels.withFirmware(kernel), BootOptions.defaults())) {
            assertEquals(multiboot.notes(), boot.loaderNotes());
            assertEquals(multiboot.entry(), boot.runToKernelEntry().cpu().rip());
        }
    }

    @Test
    void entryOutsideEverySegment_isRefused() {
        Path kernel = LoaderKernels.elf32(dir, "noentry", ".intel_syntax noprefix\n" + LoaderKernels.HEADER + BODY,
                LoaderKernels.SCRIPT.replace("ENTRY(_start)", "far_away = 0x300000;\nENTRY(far_away)"));
        assertEquals(kernel + ": the ELF entry point 0x300000 lies in no PT_LOAD segment, so a loader cannot jump "
                + "there; set ENTRY() in the linker script to the 32-bit entry", loadError(kernel).getMessage());
    }
}
