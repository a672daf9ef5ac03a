package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.Segment;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The a.out-kludge fields of a Multiboot header (flags bit 16; specification 0.6.96, section 3.1.3), all physical
 * addresses. When present they, not the ELF program headers, say what to load: the file bytes from the header's
 * position minus {@code header_addr - load_addr} go to {@code load_addr}, up to {@code load_end_addr} (0: to the
 * end of the file), then zeros up to {@code bss_end_addr} (0: none), and the kernel starts at {@code entry_addr}.
 * The checks are QEMU's (hw/i386/multiboot.c, {@code load_multiboot}) plus the two it leaves out: the text must
 * start within the file, and the entry must lie in what is loaded.
 */
public record MultibootAddressFields(long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr, long entryAddr) {

    /** The one segment these fields describe in {@code file}, whose header is at {@code headerOffset}. */
    public Segment segment(Path path, byte[] file, int headerOffset) {
        if (headerAddr < loadAddr) {
            throw inconsistent(path, String.format("header_addr 0x%x is below load_addr 0x%x, but the header is part "
                    + "of the loaded text", headerAddr, loadAddr));
        }
        long textOffset = headerOffset - (headerAddr - loadAddr);
        if (textOffset < 0) {
            throw inconsistent(path, String.format("header_addr 0x%x - load_addr 0x%x = 0x%x is more than the header's "
                    + "file offset 0x%x, so the text would start before the file", headerAddr, loadAddr,
                    headerAddr - loadAddr, headerOffset));
        }
        long loadSize;
        if (loadEndAddr == 0) {
            loadSize = file.length - textOffset;
        } else if (loadEndAddr < loadAddr) {
            throw inconsistent(path, String.format("load_end_addr 0x%x is below load_addr 0x%x", loadEndAddr, loadAddr));
        } else {
            loadSize = loadEndAddr - loadAddr;
        }
        if (textOffset + loadSize > file.length) {
            throw new ElfFormatException(String.format("%s: truncated Multiboot image: load_addr 0x%x..load_end_addr "
                    + "0x%x needs file bytes [0x%x, 0x%x) but the file has 0x%x", path, loadAddr, loadEndAddr, textOffset,
                    textOffset + loadSize, file.length));
        }
        long memSize = loadSize;
        if (bssEndAddr != 0) {
            if (bssEndAddr < loadAddr + loadSize) {
                throw inconsistent(path, String.format("bss_end_addr 0x%x is below the end of the loaded text 0x%x",
                        bssEndAddr, loadAddr + loadSize));
            }
            memSize = bssEndAddr - loadAddr;
        }
        if (entryAddr < loadAddr || entryAddr >= loadAddr + Math.max(loadSize, 1)) {
            throw inconsistent(path, String.format("entry_addr 0x%x is outside the loaded text [0x%x, 0x%x)", entryAddr,
                    loadAddr, loadAddr + loadSize));
        }
        byte[] data = Arrays.copyOfRange(file, (int) textOffset, (int) (textOffset + loadSize));
        return new Segment(loadAddr, loadAddr, memSize, Segment.READ | Segment.WRITE | Segment.EXECUTE, data);
    }

    private static ElfFormatException inconsistent(Path path, String what) {
        return new ElfFormatException(path + ": inconsistent Multiboot address fields (flags bit 16): " + what
                + "; fix these fields in the header");
    }

    @Override
    public String toString() {
        return String.format("header_addr 0x%x, load_addr 0x%x, load_end_addr 0x%x, bss_end_addr 0x%x, entry_addr 0x%x",
                headerAddr, loadAddr, loadEndAddr, bssEndAddr, entryAddr);
    }
}
