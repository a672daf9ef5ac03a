package dev.kemu.machine;

/** Names of the x86 exception vectors, for messages. */
public final class ExceptionVector {
    public static final int DE = 0, DB = 1, BP = 3, UD = 6, DF = 8, GP = 13, PF = 14;

    private static final String[] NAMES = {"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
            "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
            "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
            "#GP general protection", "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
            "#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection"};

    private ExceptionVector() {}

    public static String describe(int vector) {
        return vector >= 0 && vector < NAMES.length ? NAMES[vector] + " (vector " + vector + ")"
                : "interrupt vector " + vector;
    }
}
