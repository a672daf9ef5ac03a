package dev.kemu.toolchain.keystone;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes a minimal ELF64 x86-64 relocatable object: one {@code .text} section holding code that
 * Keystone already resolved (no relocations), and a symbol per label. Layout:
 * <pre>
 *   0x00  ELF header (64 bytes)
 *   0x40  .text bytes
 *   ....  .symtab (8-aligned; null, section symbol, locals, then globals)
 *   ....  .strtab, .shstrtab
 *   ....  section headers (8-aligned): null, .text, .symtab, .strtab, .shstrtab
 * </pre>
 */
final class RelocatableElfWriter {
    /** A label at {@code offset} in {@code .text}. */
    record Symbol(String name, long offset, boolean global) {
    }

    private static final int EHDR_SIZE = 64;
    private static final int SHDR_SIZE = 64;
    private static final int SYM_SIZE = 24;
    private static final short ET_REL = 1;
    private static final short EM_X86_64 = 62;
    private static final int SHT_PROGBITS = 1;
    private static final int SHT_SYMTAB = 2;
    private static final int SHT_STRTAB = 3;
    private static final long SHF_ALLOC_EXECINSTR = 0x2 | 0x4;
    private static final int STB_LOCAL = 0;
    private static final int STB_GLOBAL = 1;
    private static final int STT_NOTYPE = 0;
    private static final int STT_SECTION = 3;
    private static final short TEXT_INDEX = 1;

    private RelocatableElfWriter() {
    }

    static byte[] write(byte[] text, List<Symbol> symbols) {
        List<Symbol> ordered = symbols.stream()
                .sorted((a, b) -> Boolean.compare(a.global(), b.global())).toList();
        ByteArrayOutputStream strtab = new ByteArrayOutputStream();
        strtab.write(0);
        ByteBuffer symtab = little(SYM_SIZE * (2 + ordered.size()));
        symtab.put(new byte[SYM_SIZE]);
        putSymbol(symtab, 0, STB_LOCAL, STT_SECTION, TEXT_INDEX, 0);
        int firstGlobal = 2 + (int) ordered.stream().filter(s -> !s.global()).count();
        for (Symbol s : ordered) {
            int name = strtab.size();
            strtab.writeBytes((s.name() + "\0").getBytes(StandardCharsets.UTF_8));
            putSymbol(symtab, name, s.global() ? STB_GLOBAL : STB_LOCAL, STT_NOTYPE, TEXT_INDEX, s.offset());
        }
        byte[] shstrtab = "\0.text\0.symtab\0.strtab\0.shstrtab\0".getBytes(StandardCharsets.US_ASCII);

        long textOffset = EHDR_SIZE;
        long symtabOffset = align(textOffset + text.length, 8);
        long strtabOffset = symtabOffset + symtab.capacity();
        long shstrtabOffset = strtabOffset + strtab.size();
        long headersOffset = align(shstrtabOffset + shstrtab.length, 8);
        ByteBuffer out = little((int) headersOffset + 5 * SHDR_SIZE);

        out.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).put(new byte[8]);
        out.putShort(ET_REL).putShort(EM_X86_64).putInt(1).putLong(0).putLong(0).putLong(headersOffset);
        out.putInt(0).putShort((short) EHDR_SIZE).putShort((short) 0).putShort((short) 0)
                .putShort((short) SHDR_SIZE).putShort((short) 5).putShort((short) 4);
        out.position((int) textOffset);
        out.put(text);
        out.position((int) symtabOffset);
        out.put(symtab.array()).put(strtab.toByteArray()).put(shstrtab);
        out.position((int) headersOffset);
        out.put(new byte[SHDR_SIZE]);
        putSection(out, 1, SHT_PROGBITS, SHF_ALLOC_EXECINSTR, textOffset, text.length, 0, 0, 16, 0);
        putSection(out, 7, SHT_SYMTAB, 0, symtabOffset, symtab.capacity(), 3, firstGlobal, 8, SYM_SIZE);
        putSection(out, 15, SHT_STRTAB, 0, strtabOffset, strtab.size(), 0, 0, 1, 0);
        putSection(out, 23, SHT_STRTAB, 0, shstrtabOffset, shstrtab.length, 0, 0, 1, 0);
        return out.array();
    }

    private static void putSymbol(ByteBuffer b, int name, int bind, int type, short section, long value) {
        b.putInt(name).put((byte) (bind << 4 | type)).put((byte) 0).putShort(section).putLong(value).putLong(0);
    }

    private static void putSection(ByteBuffer b, int name, int type, long flags, long offset, long size,
                                   int link, int info, long align, long entsize) {
        b.putInt(name).putInt(type).putLong(flags).putLong(0).putLong(offset).putLong(size)
                .putInt(link).putInt(info).putLong(align).putLong(entsize);
    }

    private static ByteBuffer little(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }
}
