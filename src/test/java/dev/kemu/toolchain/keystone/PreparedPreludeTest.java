package dev.kemu.toolchain.keystone;

import dev.kemu.boot.KernelSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kemu.inc worked out once ({@code KeystoneLinker}'s prepared first source) links every snippet exactly as
 * going over kemu.inc again does: the same bytes and labels as the general way, reached here by putting an
 * empty source first.
 */
class PreparedPreludeTest {
    private static String prelude;

    @BeforeAll
    static void readPrelude() throws IOException {
        assumeTrue(KeystoneModule.available(), () -> KeystoneModule.unavailableReason().orElse(""));
        prelude = Files.readString(KernelSources.defaults().includeDir().resolve("kemu.inc")) + "\n.code64\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "mov rdi, 7\nxor esi, esi\nHYPERCALL HC_KMALLOC\nmov qword ptr [rax + 8], 42",
            "HYPERCALL HC_PROBE\nJUMP_IF_ERROR .Lfail\nmov ebx, KEMU_MAGIC\n.Lfail:\nnop",
            "1: dec ecx\njnz 1b\njmp 1f\nnop\n1: mov eax, EFER_LME | EFER_NXE",
            "MINE = HC_KFREE + 1\nmov eax, MINE\n.global here\nhere: call kernel_routine\n.data\nvalue: .quad here",
            ".code32\nmov eax, CR0_PE\n.code64\nmov rax, MSR_EFER",
    })
    void preparedPrelude_linksAsTheGeneralWay(String snippet) {
        KeystoneLinker linker = new KeystoneLinker();
        List<KeystoneLinker.Source> rest = List.of(new KeystoneLinker.Source(snippet, "snippet"),
                new KeystoneLinker.Source("end:\nhlt\n", "end"));
        KeystoneLinker.Source kemuInc = new KeystoneLinker.Source(prelude, "kemu.inc");
        KeystoneLinker.Linked prepared = linker.link("s", concat(List.of(kemuInc), rest), 0x1000, PreparedPreludeTest::kernel);
        KeystoneLinker.Linked general = linker.link("s",
                concat(List.of(new KeystoneLinker.Source("", "none"), kemuInc), rest), 0x1000, PreparedPreludeTest::kernel);
        assertArrayEquals(general.image(), prepared.image());
        assertEquals(general.labels(), prepared.labels());
    }

    private static OptionalLong kernel(String name) {
        return name.equals("kernel_routine") ? OptionalLong.of(0xffffffff80001230L) : OptionalLong.empty();
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
