package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.keystone.GnuReference.Snippet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * One long-lived engine per thread is only sound if nothing carries over between calls: a
 * {@code .code32}, a label, a failed or rejected source. Any sequence of snippets must give each
 * snippet GNU as's bytes (or its error), whatever came before.
 */
class KeystoneStatelessnessTest {
    private static final List<Snippet> GOOD = List.of(
            new Snippet(64, "mov eax, 42"),
            new Snippet(32, "mov eax, [ebx+4]"),
            new Snippet(16, "mov ax, [bx+si]"),
            new Snippet(64, "top: dec ecx\njnz top"),
            new Snippet(32, "push eax\npop ebx"),
            new Snippet(64, "mov rax, 0x123456789abcdef0"),
            new Snippet(64, "x = 10\nadd eax, x"));
    private static final List<String> BAD = List.of(
            "movq2 rax, rbx", "jmp top", "mov eax, [rbx+", ".text\nnop", "add eax, x");
    private static byte[][] expected;
    private static final KeystoneAssembler KEYSTONE = new KeystoneAssembler();

    @BeforeContainer
    static void gnuReference() throws IOException {
        if (!KeystoneModule.available()) {
            return;
        }
        Path dir = Files.createTempDirectory("kemu-keystone-ref");
        expected = GnuReference.assemble(GOOD, dir).toArray(new byte[0][]);
    }

    @Provide
    Arbitrary<List<Integer>> sequences() {
        return Arbitraries.integers().between(0, GOOD.size() + BAD.size() - 1).list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 40)
    void everySnippet_assemblesTheSame_whateverCameBefore(@ForAll("sequences") List<Integer> sequence) {
        if (expected == null) {
            return;   // Keystone not fetched: nothing to check (KeystoneAssemblerTest reports the skip)
        }
        for (int index : sequence) {
            if (index < GOOD.size()) {
                Snippet s = GOOD.get(index);
                String source = (s.bits() == 64 ? "" : ".code" + s.bits() + "\n") + s.source();
                assertArrayEquals(expected[index], KEYSTONE.assemble(source, "seq.S", 0),
                        () -> s.source() + " after " + Arrays.toString(sequence.toArray()));
            } else {
                String bad = BAD.get(index - GOOD.size());
                assertThrows(AssemblyException.class, () -> KEYSTONE.assemble(bad, "bad.S", 0), bad);
            }
        }
    }
}
