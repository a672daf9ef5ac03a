package dev.kemu.gdb;

import dev.kemu.machine.Machine;

/**
 * The registers a stop reply carries ({@code n:r;} pairs): the frame pointer, the stack pointer and the
 * program counter. With them gdb needs no {@code g} packet to show where a step or a breakpoint stopped
 * and to find its frame, so every stop saves one round trip, and the longest reply of the session.
 * QEMU's stub sends none, so this is where kemu's stepi and breakpoint hits can beat it.
 */
final class ExpeditedRegisters {
    private final GdbRegister[] registers;
    private final String[] prefixes;

    ExpeditedRegisters(TargetDescription target) {
        String[] names = {"rbp", "rsp", "rip"};
        registers = new GdbRegister[names.length];
        prefixes = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            int number = target.number(names[i]).orElseThrow();
            registers[i] = target.register(number).orElseThrow();
            prefixes[i] = (number < 0x10 ? "0" : "") + Integer.toHexString(number) + ":";
        }
    }

    /** {@code 06:<rbp>;07:<rsp>;10:<rip>;} of {@code cpu}, each value as the {@code p} packet gives it. */
    String of(Machine cpu) {
        StringBuilder pairs = new StringBuilder(3 * 20);
        for (int i = 0; i < registers.length; i++) {
            pairs.append(prefixes[i]).append(registers[i].read(cpu)).append(';');
        }
        return pairs.toString();
    }
}
