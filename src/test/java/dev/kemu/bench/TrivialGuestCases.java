package dev.kemu.bench;

import dev.kemu.testing.Guest;
import dev.kemu.testing.KemuExtension;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The workload of the tests-per-second figure: a trivial snippet and one register assertion,
 * through the extension. Not a *Test class, so `make test` does not run it; TestsPerSecond does.
 */
@ExtendWith(KemuExtension.class)
public class TrivialGuestCases {
    public static final int REPETITIONS = 5000;

    @RepeatedTest(REPETITIONS)
    void add(Guest guest) {
        assertEquals(5, guest.set(X86Reg.RDI, 2).run("    lea rax, [rdi + 3]").rax());
    }
}
