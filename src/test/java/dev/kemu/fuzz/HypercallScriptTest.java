package dev.kemu.fuzz;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The corpus's text form of hypercall sequences: values, references, expectations, and clear errors. */
class HypercallScriptTest {
    private final List<String> calls = new ArrayList<>();

    /** Answers 0x1000 * (call number) and records each call. */
    private long fake(int number, long... arguments) {
        calls.add(hypercallName(number) + java.util.Arrays.toString(arguments));
        return number == HC_KFREE ? EINVAL : 0x1000L * calls.size();
    }

    @Test
    void arguments_resolveNumbersFlagsErrnosResultsAndNames() {
        HypercallScript script = HypercallScript.parse("t.txt", """
                # a comment
                HC_KMALLOC(0x20, ALLOC_ZERO) -> ok      # r1 = 0x1000
                HC_VMMAP($r1 + 8, $base - 16, W|NX)
                HC_KFREE(-EINVAL, 5) -> -EINVAL
                HC_63() -> !0
                """);
        script.replay(this::fake, Map.of("base", () -> 0x100));
        assertEquals(List.of("HC_KMALLOC[32, 1]", "HC_VMMAP[4104, 240, " + (2 | (1L << 63)) + "]", "HC_KFREE[-22, 5]",
                "HC_63[]"), calls);
    }

    @Test
    void aResultThatDiffersFromItsExpectation_failsNamingFileLineAndCall() {
        HypercallScript script = HypercallScript.parse("t.txt", "HC_KMALLOC(8, 0)\nHC_KFREE($r1) -> 0\n");
        AssertionError failure = assertThrows(AssertionError.class, () -> script.replay(this::fake, Map.of()));
        assertTrue(failure.getMessage().startsWith("t.txt:2: HC_KFREE[$r1] returned -22"), failure.getMessage());
    }

    @Test
    void badText_isRefusedNamingFileLineAndWhatIsWrong() {
        assertEquals("t.txt:1: unknown hypercall \"HC_NOPE\": use a name from kemu.inc (HC_KMALLOC) or HC_<number>",
                assertThrows(IllegalArgumentException.class, () -> HypercallScript.parse("t.txt", "HC_NOPE(1)")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HypercallScript.parse("t.txt", "\nHC_KFREE 1"))
                .getMessage().startsWith("t.txt:2: expected HC_NAME(arguments)"));
        HypercallScript dangling = HypercallScript.parse("t.txt", "HC_KFREE($r3)");
        IllegalArgumentException noSuchResult = assertThrows(IllegalArgumentException.class,
                () -> dangling.replay(this::fake, Map.of()));
        assertTrue(noSuchResult.getMessage().contains("t.txt:1: cannot read the argument \"$r3\": $r3 names no earlier call"),
                noSuchResult.getMessage());
    }
}
