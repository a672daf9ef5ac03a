package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.keystone.GnuReference.Snippet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The compiled module is the same Keystone: the differential corpus (in runs of 64 instructions), some
 * multi-statement sources and malformed input give the same bytes, statement count, error code and
 * console text on the compiled classes as on Chicory's interpreter, and a trap traps on both.
 */
class CompiledKeystoneEquivalenceTest {
    private static final List<String> SOURCES = List.of(
            "top: dec ecx\njnz top\nret",
            "x = 10\nadd eax, x\nmov rbx, x + 4",
            ".code32\nmov eax, [ebx+4]\npush eax\npop ebx",
            ".code16\nmov ax, [bx+si]\nint 0x10",
            "jmp fwd\n.byte 1, 2, 3\n.align 16\nfwd: nop",
            ".quad 0x123456789abcdef0\n.long 7\n.word 3\n.ascii \"kemu\"",
            "movq2 rax, rbx", "jmp nowhere", "mov eax, [rbx+", "add eax, undefined_symbol", "");
    private static final int CHUNK = 64;
    private static KeystoneEngine compiled;
    private static KeystoneEngine interpreted;

    @BeforeAll
    static void engines() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
        KeystoneModule.Execution execution = KeystoneModule.choose(KeystoneModule.get(), KeystoneModule.location(), "auto");
        assumeTrue(execution.isCompiled(), () -> "skipped: Keystone runs " + execution.description());
        compiled = new KeystoneEngine(execution);
        interpreted = new KeystoneEngine(KeystoneModule.choose(KeystoneModule.get(), KeystoneModule.location(), "interpreter"));
    }

    @AfterAll
    static void close() {
        if (compiled != null) {
            compiled.close();
            interpreted.close();
        }
    }

    @Test
    void theCorpus_assemblesIdentically() {
        List<String> sources = new ArrayList<>(SOURCES);
        for (int bits : new int[]{16, 32, 64}) {
            List<String> sameMode = InstructionCorpus.generate().stream()
                    .filter(snippet -> snippet.bits() == bits).map(Snippet::source).toList();
            // Runs of the corpus, CHUNK statements per call: the interpreter's cost is mostly per call.
            for (int from = 0; from < sameMode.size(); from += CHUNK) {
                sources.add((bits == 64 ? "" : ".code" + bits + "\n")
                        + String.join("\n", sameMode.subList(from, Math.min(from + CHUNK, sameMode.size()))));
            }
        }
        int failures = 0;
        for (String source : sources) {
            String onCompiled = outcome(compiled, source);
            assertEquals(outcome(interpreted, source), onCompiled, () -> "compiled and interpreted Keystone differ on:\n" + source);
            failures += onCompiled.startsWith("error") ? 1 : 0;
        }
        assertTrue(failures >= 4 && failures < sources.size() - 4, "the sources give both bytes and errors: " + failures);
    }

    @Test
    void aTrap_trapsOnBoth_andTheTrappedEnginesAreBroken() {
        try (KeystoneEngine c = new KeystoneEngine(KeystoneModule.execution());
             KeystoneEngine i = new KeystoneEngine(KeystoneModule.choose(KeystoneModule.get(), KeystoneModule.location(), "interpreter"))) {
            assertThrows(KeystoneTrapException.class, () -> c.assemble(".text\nnop", 0));
            assertThrows(KeystoneTrapException.class, () -> i.assemble(".text\nnop", 0));
            assertTrue(c.broken() && i.broken());
        }
    }

    private static String outcome(KeystoneEngine engine, String source) {
        KeystoneEngine.Result result = engine.assemble(source, 0x401000);
        if (!result.ok()) {
            return "error " + result.failure().code() + " " + result.failure().message() + " console=" + result.failure().console();
        }
        return HexFormat.of().formatHex(result.output().bytes()) + " statements=" + result.output().statements();
    }
}
