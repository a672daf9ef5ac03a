package dev.kemu.debug;

import dev.kemu.machine.CpuState;
import dev.kemu.unicorn.X86Reg;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Computes the address of an instruction's memory operand from Capstone's Intel-syntax text
 * ({@code qword ptr [rax + rbx*8 - 0x10]}) and the registers, for faults that do not set CR2
 * (a #GP on a non-canonical address). Segment bases are ignored (flat 64-bit mode).
 */
public final class EffectiveAddress {
    private static final Pattern MEMORY = Pattern.compile("\\[([^\\]]+)\\]");
    private static final Pattern TERM = Pattern.compile("([+-]?)\\s*([a-z0-9]+)(?:\\s*\\*\\s*(\\d))?");

    private EffectiveAddress() {}

    public static OptionalLong of(String operands, CpuState cpu, long nextRip) {
        Matcher memory = MEMORY.matcher(operands);
        if (!memory.find()) {
            return OptionalLong.empty();
        }
        long address = 0;
        Matcher term = TERM.matcher(memory.group(1).replace(" ", ""));
        while (term.find()) {
            long sign = "-".equals(term.group(1)) ? -1 : 1;
            String token = term.group(2);
            long scale = term.group(3) == null ? 1 : Long.parseLong(term.group(3));
            OptionalLong value = token.startsWith("0x") ? OptionalLong.of(Long.parseUnsignedLong(token.substring(2), 16))
                    : token.matches("\\d+") ? OptionalLong.of(Long.parseLong(token)) : register(token, cpu, nextRip);
            if (value.isEmpty()) {
                return OptionalLong.empty();
            }
            address += sign * scale * value.getAsLong();
        }
        return OptionalLong.of(address);
    }

    private static OptionalLong register(String name, CpuState cpu, long nextRip) {
        if (name.equals("rip")) {
            return OptionalLong.of(nextRip);
        }
        for (int i = 0; i < X86Reg.GPR_NAMES.length; i++) {
            String full = X86Reg.GPR_NAMES[i];
            if (name.equals(full)) {
                return OptionalLong.of(cpu.gprs()[i]);
            }
            String dword = full.startsWith("r") && Character.isDigit(full.charAt(1)) ? full + "d" : "e" + full.substring(1);
            if (name.equals(dword)) {
                return OptionalLong.of(cpu.gprs()[i] & 0xffffffffL);
            }
        }
        return OptionalLong.empty();
    }
}
