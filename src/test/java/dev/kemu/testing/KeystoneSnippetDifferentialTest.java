package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;
import dev.kemu.toolchain.keystone.KeystoneModule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Keystone snippet path against the GNU one it replaces as the default: the same snippet, linked at
 * the harness's code address against kemu's kernel, must give the same bytes, the same end and the same
 * labels, for every construct the harness's tests use (sections, alignment, kemu.inc's macros and
 * constants, numeric and .L local labels, kernel calls, RIP-relative kernel symbols, mode switches).
 */
class KeystoneSnippetDifferentialTest {
    private static Path kernel;
    @TempDir
    static Path cache;

    @BeforeAll
    static void kernel() {
        assumeTrue(KeystoneModule.available(), () -> KeystoneModule.unavailableReason().orElse(""));
        kernel = KernelSources.defaults().build().kernel();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "lea rax, [rdi + 3]",
        "    call my_memcpy\n    jmp 2f\nmy_memcpy:\n    xor eax, eax\n    ret\n2:\n",
        "1:  dec rcx\n    jnz 1b\n    jmp 1f\n    nop\n1:  nop\n",
        ".Lloop:\n    dec rcx\n    jnz .Lloop\n    lea rax, [rip + .Lafter]\n.Lafter:\n",
        "    mov rdi, 2\n    call console_put_dec\n    jmp kernel_halt\n",
        "    lea rdx, [rip + console_put_dec]\n    mov byte ptr [rip + console_put_dec], 0xc3\n"
            + "    mov rax, qword ptr [rip + kmain]\n    cmp dword ptr [rip + console_putc], 0x12345\n",
        "    mov rax, [rbx + console_putc]\n    mov ecx, 5\n",
        "    nop\n    nop\n    nop\n.data\n.p2align 4\n.byte 7\n",
        "    nop\n.data\n.p2align 4\n.byte 7\n.section .rodata\n.p2align 5\n.quad 9\n",
        "    mov rdi, 64\n    xor esi, esi\n    HYPERCALL HC_KMALLOC\n    JUMP_IF_ERROR .Lfail\n    mov rbx, rax\n.Lfail:\n",
        "    mov rax, [rip + value]\n    lea rsi, [rip + message]\n    ret\n"
            + ".section .data\n    .byte 1\n    .align 8\nvalue: .quad 0x1122334455667788\n"
            + ".section .rodata\nmessage: .asciz \"hello\"\n.text\n    nop\n",
        "    nop\n.data\n.p2align 4\ntable: .quad console_put_dec, kmain\n.bss\nbuffer: .zero 24\n.text\n    lea rax, [rip + buffer]\n",
        "    .balign 16\nentry:\n    nop\n    .align 8\n    int3\n",
        "    lea rax, [rip + sled]\n    call rax\n    jmp .Lover\n    .org 0x3e\nsled:\n    .zero 8\n.Lover:\n    ret\n",
        "    jmp .Lfar\n    .org 0x90\n.Lfar:\n    nop\n.data\n.p2align 3\nword: .quad 1\n",
        "push 0x18\nlea rax, [rip + compat]\npush rax\nretfq\n.code32\ncompat:\n    mov eax, 1\n    hlt\n",
        "    mov eax, KEMU_MAGIC\n    mov ecx, HC_VMMAP\n    out DEBUGCON_PORT, al\n",
        "    mov ax, 0x10\n    mov ds, ax\n    mov ss, ax\n    mov fs, r9w\n",
    })
    void keystoneSnippet_equalsTheGnuLinkedOne(String source) {
        SnippetAssembler.Snippet gnu = assembler(SnippetToolchain.GNU).assemble(source, TestMachine.CODE_VA);
        SnippetAssembler.Snippet keystone = assembler(SnippetToolchain.KEYSTONE).assemble(source, TestMachine.CODE_VA);
        assertEquals(HexFormat.of().formatHex(gnu.image()), HexFormat.of().formatHex(keystone.image()), source);
        assertEquals(gnu.codeEnd(), keystone.codeEnd(), source);
        assertEquals(labels(gnu), labels(keystone), source);
    }

    /** 32-bit snippets (a protected-mode kernel's), placed low as the harness places them there. */
    @ParameterizedTest
    @ValueSource(strings = {
        "    mov eax, ecx\n    pushad\n    popad\n    inc eax\n",
        "    mov ecx, 3\n    xor eax, eax\n1:  add eax, dword ptr [table + ecx * 4 - 4]\n    loop 1b\n"
            + ".data\n.align 4\ntable: .long 100, 20, 3\n",
        "    push 0\n    push 2\n    call .Lf\n    add esp, 8\n    jmp .Lend\n.Lf:\n    mov eax, [esp + 4]\n    ret\n.Lend:\n",
        "    HYPERCALL HC_PROBE\n    cmp eax, KEMU_MAGIC\n    sete al\n",
    })
    void keystone32BitSnippet_equalsTheGnuLinkedOne(String source) {
        long address = 0x3fe0000;
        SnippetAssembler.Snippet gnu = new SnippetAssembler(kernel, cache.resolve("snippets"), 100, SnippetToolchain.GNU, 32).assemble(source, address);
        SnippetAssembler.Snippet keystone = new SnippetAssembler(kernel, cache.resolve("snippets"), 100, SnippetToolchain.KEYSTONE, 32)
                .assemble(source, address);
        assertEquals(HexFormat.of().formatHex(gnu.image()), HexFormat.of().formatHex(keystone.image()), source);
        assertEquals(gnu.codeEnd(), keystone.codeEnd(), source);
    }

    /** The repository's guest files: kernel-asm/tests and the fuzz corpus's programs. */
    static Stream<Path> guestFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("kernel-asm/tests", "src/test/resources/fuzz-corpus/programs")) {
            try (Stream<Path> listed = Files.list(ProjectFiles.resolve(dir))) {
                listed.filter(f -> f.toString().endsWith(".S")).sorted().forEach(files::add);
            }
        }
        return files.stream();
    }

    @ParameterizedTest
    @MethodSource("guestFiles")
    void keystoneAssembledGuestFile_equalsTheGnuLinkedOne(Path file) throws IOException {
        keystoneSnippet_equalsTheGnuLinkedOne(Files.readString(file));
    }

    @Test
    void keystoneSnippetFromTheDiskCache_equalsTheAssembledOne(@TempDir Path dir) {
        String source = "    call my_label\nmy_label:\n    HYPERCALL HC_PROBE\n.data\nx: .quad kmain\n";
        SnippetAssembler.Snippet built = new SnippetAssembler(kernel, dir.resolve("c"), 10, SnippetToolchain.KEYSTONE)
                .assemble(source, "cached.S", TestMachine.CODE_VA);
        java.util.Optional<SnippetAssembler.Snippet> read = java.util.Optional.empty();
        try (Stream<Path> files = Files.list(dir.resolve("c-keystone"))) {
            Path file = files.filter(f -> f.toString().endsWith(KeystoneSnippetFile.SUFFIX)).findFirst().orElseThrow();
            String key = file.getFileName().toString().replace(KeystoneSnippetFile.SUFFIX, "");
            read = KeystoneSnippetFile.read(new SnippetCache(dir.resolve("c-keystone"), 10, KeystoneSnippetFile.SUFFIX), key);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        SnippetAssembler.Snippet cached = read.orElseThrow();
        assertEquals(HexFormat.of().formatHex(built.image()), HexFormat.of().formatHex(cached.image()));
        assertEquals(built.codeEnd(), cached.codeEnd());
        assertEquals(labels(built), labels(cached));
        assertEquals(TestMachine.CODE_VA + 5, cached.symbols().address("my_label"));
    }

    @Test
    void bareKernelSymbolOperand_isRefusedAtTheSnippetsLine_notAssembledAsAnImmediate() {
        AssemblyException error = assertThrows(AssemblyException.class, () -> assembler(SnippetToolchain.KEYSTONE)
                .assemble("    nop\n    mov rax, console_put_dec\n    movabs rbx, console_putc\n", TestMachine.CODE_VA));
        // GNU as loads from both (movabs: 48 a1, a load from a 64-bit address); Keystone would give the value
        assertEquals(2, error.diagnostics().size(), error.getMessage());
        Diagnostic first = error.diagnostics().getFirst();
        assertEquals(SnippetAssembler.INLINE + ":2", first.file() + ":" + first.line(), error.getMessage());
        assertTrue(first.message().contains("[rip + console_put_dec]"), first.message());
    }

    @Test
    void syntaxErrorAfterTheMacroPrelude_namesTheSnippetsOwnLine() {
        AssemblyException error = assertThrows(AssemblyException.class, () -> assembler(SnippetToolchain.KEYSTONE)
                .assemble("    HYPERCALL HC_PROBE\n    nop\n    mov rax, qword ptr [rbx + rcx * 3]\n", "my_test.S", TestMachine.CODE_VA));
        Diagnostic first = error.diagnostics().getFirst();
        assertEquals("my_test.S:3", first.file() + ":" + first.line(), error.getMessage());
    }

    @Test
    void undefinedSymbol_isAnErrorAtItsLine() {
        AssemblyException error = assertThrows(AssemblyException.class, () -> assembler(SnippetToolchain.KEYSTONE)
                .assemble("    nop\n    call no_such_routine\n", TestMachine.CODE_VA));
        assertEquals(2, error.diagnostics().getFirst().line(), error.getMessage());
    }

    @Test
    void sectionTheLinkerScriptDoesNotPlace_isRefusedWithTheSectionsItDoes() {
        AssemblyException error = assertThrows(AssemblyException.class, () -> assembler(SnippetToolchain.KEYSTONE)
                .assemble("    nop\n.section .init\n    nop\n", TestMachine.CODE_VA));
        assertTrue(error.getMessage().contains("snippet:2") && error.getMessage().contains(".rodata*"), error.getMessage());
    }

    private static SnippetAssembler assembler(SnippetToolchain toolchain) {
        return new SnippetAssembler(kernel, cache.resolve("snippets"), 100, toolchain);
    }

    private static Map<Long, String> labels(SnippetAssembler.Snippet snippet) {
        Map<Long, String> labels = new TreeMap<>();
        for (int offset = 0; offset <= snippet.image().length; offset++) {
            long address = TestMachine.CODE_VA + offset;
            long at = offset;
            snippet.symbols().containing(address).filter(s -> s.address() == address)
                    .ifPresent(s -> labels.put(at, s.name()));
        }
        return labels;
    }
}
