package dev.kemu.gdb;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.DescriptorTable;
import dev.kemu.machine.Machine;

import java.util.OptionalLong;

/** {@code monitor idt} and {@code monitor gdt}: the descriptor tables the CPU uses, decoded. */
final class DescriptorTableText {
    private static final int MAX_ENTRIES = 256;

    private DescriptorTableText() {}

    static String gdt(Machine machine) {
        CpuState cpu = machine.cpu();
        DescriptorTable gdtr = cpu.gdtr();
        StringBuilder out = new StringBuilder(String.format("GDT at V0x%x, limit 0x%x; CS=0x%x SS=0x%x%n",
                gdtr.base(), gdtr.limit(), cpu.cs(), cpu.ss()));
        int entries = (int) Math.min(MAX_ENTRIES, (gdtr.limit() + 1) / 8);
        for (int i = 0; i < entries; i++) {
            OptionalLong raw = machine.readVirtual64(gdtr.base() + i * 8L);
            out.append(String.format("  0x%02x  ", i * 8));
            out.append(raw.isEmpty() ? "(not mapped)" : segment(raw.getAsLong())).append('\n');
        }
        return out.toString();
    }

    private static String segment(long d) {
        if ((d & (1L << 47)) == 0) {
            return String.format("%016x  not present", d);
        }
        long base = ((d >>> 16) & 0xffffff) | ((d >>> 32) & 0xff000000L);
        long limit = (d & 0xffff) | ((d >>> 32) & 0xf0000);
        boolean pages = (d & (1L << 55)) != 0;
        int type = (int) (d >>> 40) & 0xf;
        boolean code = (d & (1L << 44)) != 0 && (type & 8) != 0;
        boolean system = (d & (1L << 44)) == 0;
        String kind = system ? "system type " + type : code ? "code" : "data";
        String bits = code ? ((d & (1L << 53)) != 0 ? " 64-bit" : (d & (1L << 54)) != 0 ? " 32-bit" : " 16-bit") : "";
        return String.format("%016x  %s%s base 0x%x limit 0x%x%s DPL %d", d, kind, bits, base,
                pages ? (limit << 12) | 0xfff : limit, pages ? " (4 KiB units)" : "", (d >>> 45) & 3);
    }

    static String idt(Machine machine) {
        CpuState cpu = machine.cpu();
        DescriptorTable idtr = cpu.idtr();
        boolean longMode = cpu.longModeActive();
        int size = longMode ? 16 : 8;
        StringBuilder out = new StringBuilder(String.format("IDT at V0x%x, limit 0x%x (%s gates)%n", idtr.base(),
                idtr.limit(), longMode ? "64-bit" : "32-bit"));
        if (idtr.limit() == 0) {
            return out.append("  no IDT is loaded: any exception is a triple fault\n").toString();
        }
        int entries = (int) Math.min(MAX_ENTRIES, (idtr.limit() + 1) / size);
        int shown = 0;
        for (int vector = 0; vector < entries; vector++) {
            OptionalLong low = machine.readVirtual64(idtr.base() + (long) vector * size);
            if (low.isEmpty() || (low.getAsLong() & (1L << 47)) == 0) {
                continue;
            }
            long d = low.getAsLong();
            long handler = (d & 0xffff) | ((d >>> 32) & 0xffff0000L);
            if (longMode) {
                handler |= machine.readVirtual64(idtr.base() + (long) vector * size + 8).orElse(0) << 32;
            }
            int type = (int) (d >>> 40) & 0xf;
            String kind = switch (type) {
                case 0xE -> "interrupt gate";
                case 0xF -> "trap gate";
                case 0x5 -> "task gate";
                case 0x6, 0x7 -> "16-bit gate";
                default -> "type " + type;
            };
            out.append(String.format("  %3d  %s sel 0x%x -> 0x%x DPL %d%s%n", vector, kind, (d >>> 16) & 0xffff, handler,
                    (d >>> 45) & 3, longMode && ((d >>> 32) & 7) != 0 ? " IST " + ((d >>> 32) & 7) : ""));
            shown++;
        }
        return out.append(shown == 0 ? "  no present gate\n" : "").toString();
    }
}
