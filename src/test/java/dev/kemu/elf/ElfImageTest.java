package dev.kemu.elf;

import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ElfImageTest {
    private static byte[] kernelBytes() throws Exception {
        return Files.readAllBytes(TestKernels.defaultKernel().kernel());
    }

    @Test
    void kernel_hasBootSegmentAtOneMiBAndHigherHalfSegment() {
        ElfImage image = ElfImage.read(TestKernels.defaultKernel().kernel());
        assertEquals(0x100000L, image.segments().get(0).paddr());
        assertEquals(0x100000L, image.segments().get(0).vaddr());
        Segment high = image.segments().get(1);
        assertEquals(0xffffffff80000000L + high.paddr(), high.vaddr());
        assertEquals(image.symbols().address("_start"), image.entry());
    }

    @Test
    void symbolize_givesNamePlusOffset() {
        SymbolTable symbols = ElfImage.read(TestKernels.defaultKernel().kernel()).symbols();
        long kmain = symbols.address("kmain");
        assertEquals("kmain", symbols.symbolize(kmain));
        assertEquals("kmain+0x1f", symbols.symbolize(kmain + 0x1f));
    }

    @Test
    void truncatedHeader_isAClearError() throws Exception {
        byte[] bytes = Arrays.copyOf(kernelBytes(), 40);
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("k.elf"), bytes));
        assertEquals("k.elf: truncated ELF: 40 bytes, the ELF64 header alone is 64", e.getMessage());
    }

    @Test
    void truncatedSegmentData_namesTheSegmentAndSizes() throws Exception {
        byte[] bytes = Arrays.copyOf(kernelBytes(), 0x1100);
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("k.elf"), bytes));
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: segment"), e.getMessage());
    }

    @Test
    void elf32ClassWithX86_64Machine_isRejectedNamingTheMismatch() throws Exception {
        // ELF32 is loadable now (i386 kernels), but an x86-64 e_machine in an ELF32 file is still no kernel.
        byte[] bytes = kernelBytes().clone();
        bytes[4] = 1; // ELFCLASS32
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("k.elf"), bytes));
        assertEquals("k.elf: e_machine 62 (x86-64) in an ELFCLASS32 file; an x86-64 kernel is ELFCLASS64 with "
                + "e_machine 62: link it with the matching output format", e.getMessage());
    }

    @Test
    void unknownElfClass_isNamed() throws Exception {
        byte[] bytes = kernelBytes().clone();
        bytes[4] = 3;
        assertEquals("k.elf: ELF class 3 is neither 1 (ELFCLASS32) nor 2 (ELFCLASS64)", parseError(bytes).getMessage());
    }

    @Test
    void otherMachine_isRejected() throws Exception {
        byte[] bytes = kernelBytes().clone();
        bytes[18] = (byte) 183; // EM_AARCH64
        bytes[19] = 0;
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("k.elf"), bytes));
        assertEquals("k.elf: e_machine 183 is not x86-64 (62)", e.getMessage());
    }

    @Test
    void notAnElf_isRejected() {
        byte[] text = "#!/bin/sh\necho this is not a kernel at all, just a script\n".repeat(2).getBytes();
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("x"), text));
        assertTrue(e.getMessage().contains("not an ELF file"), e.getMessage());
    }

    private static ElfFormatException parseError(byte[] bytes) {
        return assertThrows(ElfFormatException.class, () -> ElfImage.parse(Path.of("k.elf"), bytes));
    }

    private static void put16(byte[] bytes, int at, int value) {
        bytes[at] = (byte) value;
        bytes[at + 1] = (byte) (value >> 8);
    }

    private static void put64(byte[] bytes, int at, long value) {
        for (int i = 0; i < 8; i++) {
            bytes[at + i] = (byte) (value >> (8 * i));
        }
    }

    @Test
    void phnumXnum_saysExtendedNumberingIsUnsupportedInsteadOfMinusOne() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put16(bytes, 56, 0xffff);
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: e_phnum is 0xffff (PN_XNUM"), e.getMessage());
        assertFalse(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void tooManyProgramHeaders_isTruncation() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put16(bytes, 56, 0x7fff);
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: 32767 program headers"), e.getMessage());
    }

    @Test
    void imageTruncatedBy100Bytes_saysTruncated() throws Exception {
        byte[] whole = kernelBytes();
        ElfFormatException e = parseError(Arrays.copyOf(whole, whole.length - 100));
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: "), e.getMessage());
        assertFalse(e.getMessage().contains("symbol"), e.getMessage());
    }

    @Test
    void badSectionHeaderOffset_namesEShoff() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put64(bytes, 40, 0x7fff_0000L);
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: bad e_shoff 0x7fff0000: the section headers would start past the end"),
                e.getMessage());
    }

    @Test
    void bigEndianHeader_saysBigEndian() throws Exception {
        byte[] bytes = kernelBytes().clone();
        bytes[5] = 2; // ELFDATA2MSB: jelf would read e_machine 62 as 15872
        ElfFormatException e = parseError(bytes);
        assertEquals("k.elf: big-endian ELF (EI_DATA 2); kemu loads little-endian x86-64 images", e.getMessage());
    }

    @Test
    void byteSwappedMachine_hintsAtEndianness() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put16(bytes, 18, 15872);
        ElfFormatException e = parseError(bytes);
        assertEquals("k.elf: e_machine 15872 is not x86-64 (62); 15872 is 62 byte-swapped, so the header was "
                + "probably written big-endian", e.getMessage());
    }

    @Test
    void sectionCountZeroWithSectionOffset_saysExtendedNumberingIsUnsupported() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put16(bytes, 60, 0);
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: e_shnum is 0 although e_shoff is set"), e.getMessage());
    }

    @Test
    void segmentOffsetThatOverflowsWithItsSize_isTruncationNotAWrappedCopy() throws Exception {
        byte[] bytes = kernelBytes().clone();
        long phoff = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(32);
        put64(bytes, (int) phoff + 8, 0x7fff_ffff_ffff_ff00L); // p_offset of the first program header
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: segment 0 needs file bytes [0x7fffffffffffff00, "),
                e.getMessage());
    }

    @Test
    void programHeaderOffsetNearTwoToThe63_isTruncationNotAWrappedCheck() throws Exception {
        byte[] bytes = kernelBytes().clone();
        put64(bytes, 32, 0x7fff_ffff_ffff_fff0L); // e_phoff: phoff + phnum * 56 wraps negative
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: "), e.getMessage());
        assertTrue(e.getMessage().contains("e_phoff 0x7ffffffffffffff0"), e.getMessage());
    }

    @Test
    void sectionOffsetThatWrapsWithItsSize_isTruncation() throws Exception {
        byte[] bytes = kernelBytes().clone();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(40);
        int section = 1; // the first real section (0 is the null section)
        int at = (int) shoff + section * 64;
        put64(bytes, at + 24, 0x7fff_ffff_ffff_ff00L); // sh_offset
        put64(bytes, at + 32, 0x200L);                 // sh_size: the sum wraps negative
        ElfFormatException e = parseError(bytes);
        assertTrue(e.getMessage().startsWith("k.elf: truncated ELF: section 1 needs file bytes [0x7fffffffffffff00, "),
                e.getMessage());
    }
}
