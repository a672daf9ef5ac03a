package dev.kemu.byok;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelImages;
import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which protocol kemu picks from an image, and the clear errors for broken Multiboot 2 headers and Limine images:
 * the test kernels with bytes changed, as a wrong build would leave them.
 */
class BootProtocolImagesTest {
    private static final int MB2_MAGIC = 0xE85250D6;
    private static final long HHDM_ID_2 = 0x48dcf1cb8ad2b852L, HHDM_ID_3 = 0x63984e959a98244bL;
    private static final long KERNEL_ADDRESS_ID_2 = 0x71ba76863cc55f63L, KERNEL_ADDRESS_ID_3 = 0xb2644a48c516a487L;
    private static final long PAGING_ID_2 = 0x95c1a0edab0944cbL;
    private static final long BASE_REVISION_1 = 0x6a7b384944536bdcL;

    @TempDir
    Path dir;

    private static byte[] bytes(String kernel) throws Exception {
        return Files.readAllBytes(TestKernelBuild.kernel(kernel));
    }

    private static ByteBuffer le(byte[] file) {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int find32(byte[] file, int value) {
        for (int at = 0; at + 4 <= file.length; at += 4) {
            if (le(file).getInt(at) == value) {
                return at;
            }
        }
        throw new AssertionError("0x" + Integer.toHexString(value) + " not in the image");
    }

    private static int find64(byte[] file, long value) {
        for (int at = 0; at + 8 <= file.length; at += 8) {
            if (le(file).getLong(at) == value) {
                return at;
            }
        }
        throw new AssertionError("0x" + Long.toHexString(value) + " not in the image");
    }

    private Path write(String name, byte[] file) throws Exception {
        return Files.write(dir.resolve(name), file);
    }

    private static String loadError(Path kernel, Optional<BootProtocol> protocol) {
        return assertThrows(ElfFormatException.class, () -> {
            try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(
                    KernelSources.defaults().buildFirmware(), kernel), BootOptions.defaults(), protocol)) {
                boot.run();
            }
        }).getMessage();
    }

    @Test
    void multiboot2BadChecksum_saysWhichSumAndTheRightValue() throws Exception {
        byte[] file = bytes("mb2info32.elf");
        int header = find32(file, MB2_MAGIC);
        int checksum = le(file).getInt(header + 12);
        le(file).putInt(header + 12, checksum + 1);
        Path kernel = write("checksum.elf", file);
        assertEquals(String.format("%s: bad Multiboot 2 header checksum at file offset 0x%x: magic + architecture (0) + "
                + "header_length (0x%x) + checksum (0x%08x) = 0x00000001, not 0; set checksum to 0x%08x", kernel, header,
                le(file).getInt(header + 8), checksum + 1, checksum), loadError(kernel, Optional.empty()));
    }

    @Test
    void multiboot2HeaderCutShort_saysTruncatedAndWhere() throws Exception {
        byte[] file = bytes("mb2info32.elf");
        int header = find32(file, MB2_MAGIC);
        // header_length 24 leaves the first tag (the information request, 28 bytes) hanging out of the header.
        le(file).putInt(header + 8, 24).putInt(header + 12, -(MB2_MAGIC + 24));
        Path kernel = write("short.elf", file);
        assertEquals(String.format("%s: truncated Multiboot 2 header at file offset 0x%x: the tag of type 1 at file "
                + "offset 0x%x has size 0x1c, which runs past header_length 0x18", kernel, header, header + 16),
                loadError(kernel, Optional.empty()));
    }

    @Test
    void multiboot2RequiredInformationKemuDoesNotGive_isRefusedWithTheFix() throws Exception {
        byte[] file = bytes("mb2info32.elf");
        int header = find32(file, MB2_MAGIC);
        le(file).putInt(header + 16 + 8 + 16, 9); // the request's fifth type: memory map (6) becomes ELF symbols (9)
        Path kernel = write("elfsyms.elf", file);
        assertEquals(kernel + ": the Multiboot 2 header requires the information tag elf symbols (9), which kemu does "
                + "not give; set the request tag's optional flag (bit 0) or drop the type from it",
                loadError(kernel, Optional.empty()));
    }

    @Test
    void imageWithBothMultibootHeaders_bootsMultiboot2_unlessMultiboot1IsForced() throws Exception {
        byte[] file = bytes("mb2info32.elf");
        le(file).putInt(0x200, 0x1BADB002).putInt(0x204, 0).putInt(0x208, -0x1BADB002); // padding before .text
        Path kernel = write("both.elf", file);
        assertEquals(BootProtocol.MULTIBOOT2, KernelImages.read(kernel, Optional.empty()).protocol());
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel), BootOptions.defaults(), Optional.of(BootProtocol.MULTIBOOT))) {
            assertEquals(BootProtocol.MULTIBOOT, boot.protocol());
            assertEquals("mb2: wrong magic 0x2badb002\n", boot.run().console());
        }
    }

    @Test
    void limineBaseRevisionAboveKemus_bootsWithTheTagUnchanged_andANote() throws Exception {
        byte[] file = bytes("limine64.elf");
        int tag = find64(file, BASE_REVISION_1) - 8;
        le(file).putLong(tag + 16, 3);
        Path kernel = write("revision3.elf", file);
        try (KernelBoot boot = new KernelBoot(new KernelSources.BuiltImages(KernelSources.defaults().buildFirmware(),
                kernel), BootOptions.defaults())) {
            assertTrue(boot.loaderNotes().contains("Limine: the kernel asks for base revision 3; kemu supports "
                    + "revisions 0 to 2 and boots it as revision 2, leaving the tag unchanged as the protocol says"),
                    boot.loaderNotes().toString());
            String console = boot.run().console();
            assertTrue(console.contains("\nlimine64: base revision not supported\n"), console);
        }
    }

    @Test
    void limineRequestTwice_isRefused() throws Exception {
        byte[] file = bytes("limine64.elf");
        int hhdm = find64(file, HHDM_ID_2);
        le(file).putLong(hhdm, KERNEL_ADDRESS_ID_2).putLong(hhdm + 8, KERNEL_ADDRESS_ID_3);
        Path kernel = write("twice.elf", file);
        String message = loadError(kernel, Optional.empty());
        assertTrue(message.startsWith(kernel + ": the Limine request kernel address at V0xffffffff8000"), message);
        assertTrue(message.endsWith("; the protocol allows one of each, so no Limine loader boots it; keep one"),
                message);
    }

    @Test
    void liminePagingModeRequiringFiveLevels_isRefused() throws Exception {
        byte[] file = bytes("limine64.elf");
        int request = find64(file, PAGING_ID_2) - 16;
        le(file).putLong(request + 32, 1).putLong(request + 48, 1).putLong(request + 56, 1).putLong(request + 64, 1);
        Path kernel = write("la57.elf", file);
        String message = loadError(kernel, Optional.empty());
        assertTrue(message.contains("the Limine paging mode request at V0xffffffff8000"), message);
        assertTrue(message.endsWith("has min_mode 1 (5-level paging at least); kemu gives 4-level paging only "
                + "(mode 0), so it cannot boot the kernel; allow min_mode 0"), message);
    }

    @Test
    void limineLowerHalfKernel_isRefused() throws Exception {
        byte[] file = bytes("limine64.elf");
        long phoff = le(file).getLong(0x20);
        le(file).putLong((int) phoff + 16, 0x200000); // the first PT_LOAD's p_vaddr
        Path kernel = write("low.elf", file);
        String message = loadError(kernel, Optional.of(BootProtocol.LIMINE));
        assertTrue(message.startsWith(kernel + ": segment "), message);
        assertTrue(message.endsWith("is linked below 0xffffffff80000000; the Limine protocol loads kernels only at or "
                + "above that address (lower-half kernels are not supported); link the kernel in the top 2 GiB"),
                message);
    }

    @Test
    void elf32ForcedToLimine_saysLimineNeedsElf64() {
        Path kernel = TestKernelBuild.kernel("serial32.elf");
        assertEquals(kernel + ": not an ELF64 file; the Limine protocol boots x86-64 ELF64 kernels only (link with "
                + "-m elf_x86_64)", loadError(kernel, Optional.of(BootProtocol.LIMINE)));
    }

    @Test
    void unknownProtocolOption_isAUsageErrorListingTheChoices() {
        var run = KemuCommand.boot(TestKernelBuild.kernel("serial32.elf"), dir, null, "--protocol", "grub");
        assertEquals(2, run.exitStatus(), run::describe);
        assertTrue(run.toolOutput().contains("--protocol grub: unknown boot protocol; use auto, limine, multiboot2, "
                + "multiboot"), run::describe);
    }
}
