package dev.kemu.kernel.kasan;

import java.util.Locale;

/** The operand size of a faulting instruction, from Capstone's Intel text ({@code qword ptr [...]}). */
final class AccessSize {
    private AccessSize() {}

    /** Bytes the instruction's memory operand covers, or 0 when its text names no size. */
    static int of(String operands) {
        String text = operands.toLowerCase(Locale.ROOT);
        String[][] sizes = {{"zmmword", "64"}, {"ymmword", "32"}, {"xmmword", "16"}, {"tbyte", "10"}, {"qword", "8"},
                {"dword", "4"}, {"word", "2"}, {"byte", "1"}};
        for (String[] size : sizes) {
            if (text.contains(size[0] + " ptr")) {
                return Integer.parseInt(size[1]);
            }
        }
        return 0;
    }
}
