package dev.kemu.toolchain.keystone;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.SymbolTable;
import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel image with its code assembled by Keystone: GNU {@code ld} still builds the ELF (sections,
 * relocations, symbols, linker script); then each code section of each source ({@link KernelSections})
 * is assembled by Keystone at the address ld gave it, with every symbol it does not define supplied
 * from the GNU-linked ELF's symbol table as a {@code name = value} line, and Keystone's bytes replace
 * ld's in a copy of the ELF. Every label Keystone placed is checked against ld's address for it, so a
 * different length anywhere is an error rather than a shifted kernel.
 */
public final class KeystoneImage {
    /** One code section: where it is, how long, and whether Keystone's bytes equal GNU's. */
    public record Section(String file, String name, long address, int length, String difference) {
        public boolean sameAsGnu() {
            return difference.isEmpty();
        }

        /** One line for the boot output. */
        public String describe() {
            return String.format("%s %s: %d bytes at 0x%x assembled by Keystone, %s", file, name, length, address,
                    sameAsGnu() ? "identical to GNU as" : "different from GNU as: " + difference);
        }
    }

    /** The ELF written, and its code sections. */
    public record Result(Path elf, List<Section> sections) {
    }

    // `offset NAME`: GNU's immediate address of NAME; Keystone knows no `offset`
    private static final Pattern OFFSET = Pattern.compile("(?i)\\boffset\\s+([A-Za-z_][\\w.$]*)");
    private static final String OFFSET_CONSTANT = LocalLabels.PREFIX + "address_of."; // no word `offset` for the guard to see

    private KeystoneImage() {
    }

    /**
     * Writes {@code output}: {@code gnuElf} (linked by GNU ld from {@code sources}) with the bytes of every code
     * section replaced by Keystone's. Throws {@link AssemblyException} naming the file and line Keystone cannot
     * take, or the label whose address Keystone and ld disagree on.
     */
    public static Result build(Path gnuElf, List<Path> sources, List<Path> includeDirs, Path output) {
        ElfImage gnu = ElfImage.read(gnuElf);
        byte[] elf;
        try {
            elf = Files.readAllBytes(gnuElf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel image " + gnuElf, e);
        }
        List<Section> sections = new ArrayList<>();
        KeystoneLinker linker = new KeystoneLinker();
        for (Path source : sources) {
            for (KernelSections.CodeSection code : KernelSections.of(source, includeDirs)) {
                sections.add(assemble(code, gnu.symbols(), elf, linker));
            }
        }
        try {
            Files.createDirectories(output.toAbsolutePath().getParent());
            Files.write(output, elf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + output, e);
        }
        return new Result(output, sections);
    }

    private static Section assemble(KernelSections.CodeSection code, SymbolTable symbols, byte[] elf,
                                    KeystoneLinker linker) {
        String what = code.file() + " " + code.section();
        if (code.firstLabel() == null || symbols.find(code.firstLabel()).isEmpty()) {
            throw new AssemblyException("cannot place " + what + " for Keystone", List.of(new Diagnostic(
                    code.sources().getLast().file(), 0, "the section has no label in the kernel's symbol table to find"
                            + " its link address by; start it with a label")));
        }
        long address = symbols.address(code.firstLabel());
        Map<String, Long> offsets = new LinkedHashMap<>();
        List<KeystoneLinker.Source> sources = new ArrayList<>();
        for (KeystoneLinker.Source s : code.sources()) {
            sources.add(new KeystoneLinker.Source(offsetsRespelled(s.text(), symbols, offsets), s.file()));
        }
        StringBuilder constants = new StringBuilder();
        offsets.forEach((name, value) -> constants.append(OFFSET_CONSTANT).append(name).append(" = 0x")
                .append(Long.toHexString(value)).append('\n'));
        sources.addFirst(new KeystoneLinker.Source(constants.toString(), "(addresses from the GNU-linked image)"));
        KeystoneLinker.Linked linked = linker.link(what, sources, address, name -> addressOf(symbols, name));
        for (Map.Entry<String, Long> label : linked.labels().entrySet()) {
            long theirs = symbols.find(label.getKey()).map(s -> s.address()).orElse(label.getValue());
            if (theirs != label.getValue()) {
                throw new AssemblyException("Keystone's " + what + " does not fit GNU ld's layout", List.of(
                        new Diagnostic(code.sources().getLast().file(), 0, String.format(
                                "label %s is at 0x%x in Keystone's code, at 0x%x in the GNU-linked image",
                                label.getKey(), label.getValue(), theirs))));
            }
        }
        byte[] ours = linked.image();
        int offset = fileOffset(elf, address, ours.length, what);
        byte[] theirs = Arrays.copyOfRange(elf, offset, offset + ours.length);
        int first = Arrays.mismatch(ours, theirs);
        String difference = first < 0 ? "" : String.format("first at 0x%x: keystone %s, gnu %s", address + first,
                HexFormat.of().formatHex(ours, first, Math.min(ours.length, first + 8)),
                HexFormat.of().formatHex(theirs, first, Math.min(theirs.length, first + 8)));
        System.arraycopy(ours, 0, elf, offset, ours.length);
        return new Section(code.file(), code.section(), address, ours.length, difference);
    }

    /**
     * {@code offset NAME} for a symbol of the GNU-linked image respelled as a constant holding its address
     * ({@code kemu.address_of.NAME}), which Keystone reads as the immediate GNU as means; a name of the same
     * section is left as written (Keystone's guard names what to write instead).
     */
    private static String offsetsRespelled(String text, SymbolTable symbols, Map<String, Long> offsets) {
        Matcher offset = OFFSET.matcher(text);
        StringBuilder out = new StringBuilder();
        while (offset.find()) {
            String name = offset.group(1);
            OptionalLong address = addressOf(symbols, name);
            String replacement = offset.group();
            if (address.isPresent()) {
                offsets.put(name, address.getAsLong());
                replacement = OFFSET_CONSTANT + name;
            }
            offset.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        offset.appendTail(out);
        return out.toString();
    }

    /**
     * {@code name}'s address in the GNU-linked image; a label of the section being assembled is looked up too,
     * as every label's address is checked against ld's afterwards. A local name two files define differently
     * is an error: the symbol table does not say which file's is meant.
     */
    private static OptionalLong addressOf(SymbolTable symbols, String name) {
        List<Long> addresses = symbols.addressesOf(name).stream().distinct().toList();
        if (addresses.size() > 1) {
            throw new AssemblyException("cannot resolve `" + name + "` for Keystone", List.of(new Diagnostic(name, 0,
                    "the kernel's symbol table holds " + addresses.size() + " symbols of that name (locals of different"
                            + " files); rename one")));
        }
        return addresses.isEmpty() ? OptionalLong.empty() : OptionalLong.of(addresses.getFirst());
    }

    /** Where {@code length} bytes at virtual {@code address} lie in the ELF64 file (a PT_LOAD segment's bytes). */
    private static int fileOffset(byte[] elf, long address, int length, String what) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        int phnum = Short.toUnsignedInt(b.getShort(0x38));
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            long fileOffset = b.getLong(ph + 8);
            long vaddr = b.getLong(ph + 16);
            long fileSize = b.getLong(ph + 32);
            if (b.getInt(ph) == 1 && address - vaddr >= 0 && address + length <= vaddr + fileSize) {
                return (int) (fileOffset + address - vaddr);
            }
        }
        throw new AssemblyException("cannot place " + what, List.of(new Diagnostic(what, 0,
                String.format("no loadable segment of the GNU-linked image holds 0x%x..0x%x", address,
                        address + length))));
    }
}
