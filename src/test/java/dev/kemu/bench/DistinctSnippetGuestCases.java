package dev.kemu.bench;

import dev.kemu.testing.Guest;
import dev.kemu.testing.KemuExtension;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The workload of the distinct-snippet tests-per-second figure: every test runs a snippet no test
 * ran before (a new immediate, also new across runs and JVMs), so neither snippet cache answers and
 * each test pays one assembly. Not a *Test class, so `make test` does not run it; TestsPerSecond does.
 */
@ExtendWith(KemuExtension.class)
public class DistinctSnippetGuestCases {
    public static final int REPETITIONS = 300;
    private static final AtomicLong NEXT = new AtomicLong((System.nanoTime() & 0xffffffL) << 24);

    @RepeatedTest(REPETITIONS)
    void load(Guest guest) {
        long value = NEXT.incrementAndGet();
        assertEquals(value, guest.run("    mov rax, " + value).rax());
    }
}
