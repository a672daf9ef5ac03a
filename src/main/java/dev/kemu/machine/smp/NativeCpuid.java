package dev.kemu.machine.smp;

import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What Unicorn's CPU model itself answers to {@code cpuid}, asked once per leaf and subleaf in a scratch
 * engine (a {@code cpuid} hook that answers must give all four registers, so it needs the model's values
 * for the bits it leaves alone). The answers depend only on the library, so they are kept for the JVM.
 */
final class NativeCpuid {
    record Result(int eax, int ebx, int ecx, int edx) {}

    private static final Map<Long, Result> ANSWERS = new ConcurrentHashMap<>();
    private static final long CODE = 0x1000;

    private NativeCpuid() {}

    static Result of(int leaf, int subleaf) {
        return ANSWERS.computeIfAbsent((long) leaf << 32 | Integer.toUnsignedLong(subleaf), key -> ask(leaf, subleaf));
    }

    private static Result ask(int leaf, int subleaf) {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.memMap(CODE, 0x1000, Prot.ALL);
            uc.memWrite(CODE, new byte[]{0x0f, (byte) 0xa2}); // cpuid
            uc.regWrite(X86Reg.RAX, Integer.toUnsignedLong(leaf));
            uc.regWrite(X86Reg.RCX, Integer.toUnsignedLong(subleaf));
            uc.start(CODE, CODE + 2, 0, 0);
            return new Result((int) uc.regRead(X86Reg.RAX), (int) uc.regRead(X86Reg.RBX), (int) uc.regRead(X86Reg.RCX),
                    (int) uc.regRead(X86Reg.RDX));
        }
    }
}
