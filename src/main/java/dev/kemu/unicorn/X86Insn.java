package dev.kemu.unicorn;

/** Instruction ids of {@code uc_x86_insn} usable with instruction hooks. */
public enum X86Insn {
    IN(218), OUT(500), SYSCALL(699), SYSENTER(700), CPUID(113), RDTSC(608), RDTSCP(609);

    final int id;

    X86Insn(int id) {
        this.id = id;
    }
}
