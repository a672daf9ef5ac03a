package dev.kemu.machine;

/**
 * The x86 exception vectors by name (Intel SDM vol. 3, table 6-1), for code that compares
 * vectors and for messages. Vectors 32 and up are external or software interrupts.
 */
public final class ExceptionVector {
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
            COPROCESSOR_OVERRUN = 9, TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
            VE = 20, CP = 21;

    private static final String[] NAMES = {"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
            "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
            "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
            "#GP general protection", "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
            "#MC machine check", "#XM SIMD error", "#VE virtualization", "#CP control protection"};

    private ExceptionVector() {}

    /** {@code "#PF page fault (vector 14)"}; vectors without a name print as {@code "interrupt vector 32"}. */
    public static String describe(int vector) {
        return vector >= 0 && vector < NAMES.length ? NAMES[vector] + " (vector " + vector + ")"
                : "interrupt vector " + vector;
    }

    /** The mnemonic alone ({@code "#PF"}, {@code "NMI"}), or {@code "vector 32"}, for one-line logs. */
    public static String mnemonic(int vector) {
        String name = vector >= 0 && vector < NAMES.length ? NAMES[vector] : "";
        if (name.startsWith("#")) {
            return name.substring(0, name.indexOf(' '));
        }
        return vector == NMI ? name : "vector " + vector;
    }

    /**
     * Whether a second exception raised while the CPU delivers {@code first} becomes a #DF
     * (SDM vol. 3A table 6-5): contributory after contributory, or a #PF or contributory one
     * after a #PF. Any other pair is handled serially: the second is delivered as it is.
     */
    public static boolean escalatesToDoubleFault(int first, int second) {
        boolean secondSerious = contributory(second) || second == PF;
        return (contributory(first) && contributory(second)) || (first == PF && secondSerious);
    }

    /** #DE, #TS, #NP, #SS and #GP: the "contributory" class of the double-fault rules. */
    public static boolean contributory(int vector) {
        return switch (vector) {
            case DE, TS, NP, SS, GP -> true;
            default -> false;
        };
    }

    /** Whether the CPU pushes an error code for {@code vector} (the same in 32-bit and 64-bit mode). */
    public static boolean hasErrorCode(int vector) {
        return switch (vector) {
            case DF, TS, NP, SS, GP, PF, AC, CP -> true;
            default -> false;
        };
    }
}
