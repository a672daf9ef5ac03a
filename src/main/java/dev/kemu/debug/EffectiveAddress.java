package dev.kemu.debug;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.Disassembler;
import dev.kemu.unicorn.X86Reg;

import java.util.OptionalLong;

/**
 * The linear address of an instruction's memory operand, from the operand Capstone decoded
 * (segment, base, index, scale, displacement) and the registers, for faults that do not set CR2
 * (a #GP on a non-canonical address). In 64-bit mode only FS and GS have a base; a 0x67 prefix
 * truncates the sum to 32 bits before the base is added, as the CPU does.
 */
public final class EffectiveAddress {
    private EffectiveAddress() {}

    /**
     * The address {@code insn} accesses, or empty when it has no memory operand, Capstone did not
     * decode operands (not libcapstone 4) or a register is not one this knows.
     */
    public static OptionalLong of(Disassembler.Instruction insn, CpuState cpu, long fsBase, long gsBase) {
        if (insn.memory().isEmpty()) {
            return OptionalLong.empty();
        }
        Disassembler.MemoryOperand memory = insn.memory().get();
        long nextRip = insn.address() + insn.bytes().length; // RIP-relative: from the end of the instruction
        OptionalLong base = register(memory.base(), cpu, nextRip);
        OptionalLong index = register(memory.index(), cpu, nextRip);
        if (base.isEmpty() || index.isEmpty()) {
            return OptionalLong.empty();
        }
        long offset = base.getAsLong() + index.getAsLong() * memory.scale() + memory.displacement();
        if (memory.addressSize() == 4) {
            offset &= 0xffff_ffffL;
        }
        long segmentBase = switch (memory.segment()) {
            case "fs" -> fsBase;
            case "gs" -> gsBase;
            default -> 0; // CS, DS, ES, SS: base 0 in 64-bit mode
        };
        return OptionalLong.of(segmentBase + offset);
    }

    /** A register's value by Capstone's name; "" (no register) and the SIB "no index" pseudo-registers are 0. */
    private static OptionalLong register(String name, CpuState cpu, long nextRip) {
        switch (name) {
            case "", "riz", "eiz" -> {
                return OptionalLong.of(0);
            }
            case "rip" -> {
                return OptionalLong.of(nextRip);
            }
            case "eip" -> {
                return OptionalLong.of(nextRip & 0xffff_ffffL);
            }
            default -> {
                for (int i = 0; i < X86Reg.GPR_NAMES.length; i++) {
                    String full = X86Reg.GPR_NAMES[i];
                    if (name.equals(full)) {
                        return OptionalLong.of(cpu.gprs()[i]);
                    }
                    if (name.equals(dwordName(full))) {
                        return OptionalLong.of(cpu.gprs()[i] & 0xffff_ffffL);
                    }
                }
                return OptionalLong.empty();
            }
        }
    }

    /** {@code rax} -> {@code eax}, {@code r8} -> {@code r8d}. */
    private static String dwordName(String full) {
        return Character.isDigit(full.charAt(1)) ? full + "d" : "e" + full.substring(1);
    }
}
