package dev.kemu.gdb;

import dev.kemu.machine.RegisterSlotBlock;
import dev.kemu.machine.smp.CpuSet;
import dev.kemu.unicorn.X86Reg;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The {@code g} packet's reply: every register of kemu's layout of one CPU, read with one native call
 * and hex-encoded from the bytes Unicorn wrote (registers are little-endian there and in the packet). A
 * stepi ends with a {@code g}, so this is on the path of every step; a call per wide register and a
 * String per register made it the stub's costliest packet while the JIT had not compiled it yet.
 */
final class AllRegisters {
    private final RegisterSlotBlock[] perCpu;
    /** Where register {@code i}'s bytes start in {@link #raw}, and how many the packet takes. */
    private final int[] from;
    private final int[] bytes;
    private final byte[] raw;
    private final byte[] hex;

    AllRegisters(List<GdbRegister> layout, CpuSet cpus) {
        int[] ids = new int[layout.size()];
        from = new int[layout.size()];
        bytes = new int[layout.size()];
        int hexLength = 0;
        for (int i = 0; i < ids.length; i++) {
            GdbRegister register = layout.get(i);
            if (register.bytes() > RegisterSlotBlock.SLOT - (register.kind() == GdbRegister.Kind.MSR ? RegisterSlotBlock.MSR_VALUE : 0)) {
                throw new IllegalArgumentException(register.name() + " is " + register.bytes() + " bytes: wider than a slot");
            }
            ids[i] = register.kind() == GdbRegister.Kind.MSR ? X86Reg.MSR : register.unicornId();
            from[i] = i * RegisterSlotBlock.SLOT + (register.kind() == GdbRegister.Kind.MSR ? RegisterSlotBlock.MSR_VALUE : 0);
            bytes[i] = register.bytes();
            hexLength += 2 * register.bytes();
        }
        perCpu = new RegisterSlotBlock[cpus.count()];
        for (int cpu = 0; cpu < perCpu.length; cpu++) {
            perCpu[cpu] = cpus.machine(cpu).registerSlots(ids);
            for (int i = 0; i < ids.length; i++) {
                if (layout.get(i).kind() == GdbRegister.Kind.MSR) {
                    perCpu[cpu].selectMsr(i, layout.get(i).unicornId());
                }
            }
        }
        raw = new byte[ids.length * RegisterSlotBlock.SLOT];
        hex = new byte[hexLength];
    }

    /** The registers of {@code cpu} (0-based) as the {@code g} packet's hex. */
    String read(int cpu) {
        perCpu[cpu].read(raw);
        int at = 0;
        for (int i = 0; i < from.length; i++) {
            at = RspPackets.hex(raw, from[i], bytes[i], hex, at);
        }
        return new String(hex, 0, at, StandardCharsets.ISO_8859_1);
    }
}
