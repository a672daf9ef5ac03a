package dev.kemu.boot;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.kernel.MultibootLayout;
import dev.kemu.machine.GuestRam;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads boot modules into guest RAM after the kernel, as QEMU does (hw/i386/multiboot.c): each module page-aligned
 * (what header flag bit 0 asks for; kemu aligns always), then the module table the info block's {@code mods_addr}
 * points at, followed by the modules' NUL-terminated command lines:
 *
 * <pre>
 *   kernel end, page-aligned   module 0 | pad | module 1 | pad | ...
 *   next page                  mod_start, mod_end, string, reserved   16 bytes per module
 *                              "cmdline 0\0" "cmdline 1\0" ...
 * </pre>
 */
public final class MultibootModules {
    private static final long PAGE = 4096;

    /** One module in guest RAM, {@code [start, end)}, with the address of its command line. */
    public record Loaded(MultibootModule module, long start, long end, long commandLine) {}

    /** Where the table is, what it lists, and the first address after it all. */
    public record Directory(long table, List<Loaded> modules, long end) {
        public static Directory none(long at) {
            return new Directory(at, List.of(), at);
        }
    }

    private MultibootModules() {}

    /** Loads {@code modules} from {@code start} (page-aligned up); everything must end at or below {@code limit}. */
    public static Directory load(GuestRam ram, long start, long limit, List<MultibootModule> modules) {
        long at = alignUp(start);
        List<Loaded> loaded = new ArrayList<>();
        for (MultibootModule module : modules) {
            byte[] bytes = read(module);
            requireFits(module + " (" + bytes.length + " bytes)", at, bytes.length, limit);
            ram.write(at, bytes);
            loaded.add(new Loaded(module, at, at + bytes.length, 0));
            at = alignUp(at + bytes.length);
        }
        long table = at;
        long strings = table + (long) modules.size() * MultibootLayout.MOD_ENTRY_BYTES;
        List<Loaded> listed = new ArrayList<>();
        for (int i = 0; i < loaded.size(); i++) {
            Loaded module = loaded.get(i);
            byte[] line = module.module().commandLine().getBytes(StandardCharsets.UTF_8);
            requireFits("the command line of " + module.module(), strings, line.length + 1L, limit);
            ram.write(strings, line);
            ram.write8(strings + line.length, 0);
            long entry = table + (long) i * MultibootLayout.MOD_ENTRY_BYTES;
            ram.write32(entry + MultibootLayout.MOD_START, (int) module.start());
            ram.write32(entry + MultibootLayout.MOD_END, (int) module.end());
            ram.write32(entry + MultibootLayout.MOD_CMDLINE, (int) strings);
            ram.write32(entry + MultibootLayout.MOD_RESERVED, 0);
            listed.add(new Loaded(module.module(), module.start(), module.end(), strings));
            strings += line.length + 1L;
        }
        return new Directory(table, List.copyOf(listed), strings);
    }

    private static byte[] read(MultibootModule module) {
        try {
            return Files.readAllBytes(module.file());
        } catch (IOException e) {
            throw new ElfFormatException("--module " + module.file() + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void requireFits(String what, long at, long bytes, long limit) {
        if (at + bytes > limit) {
            throw new ElfFormatException(String.format("%s does not fit: it would take [P0x%x-P0x%x) but usable guest "
                    + "RAM ends at P0x%x; give the guest more RAM (--ram)", what, at, at + bytes, limit));
        }
    }

    private static long alignUp(long address) {
        return (address + PAGE - 1) & -PAGE;
    }
}
