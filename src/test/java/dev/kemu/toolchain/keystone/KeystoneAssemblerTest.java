package dev.kemu.toolchain.keystone;

import dev.kemu.toolchain.AssemblyException;
import dev.kemu.toolchain.Diagnostic;
import dev.kemu.toolchain.GnuAssembler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class KeystoneAssemblerTest {
    @TempDir
    Path dir;

    private final KeystoneAssembler keystone = new KeystoneAssembler();

    @BeforeEach
    void keystoneIsThere() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
    }

    private byte[] gnu(int bits, String source) {
        return GnuReference.assemble(List.of(new GnuReference.Snippet(bits, source)), dir).get(0);
    }

    @Test
    void snippetWithLabelsCommentsAndSeparators_matchesGnuAs() {
        String source = """
                start:  mov eax, 42      # the answer
                        push rbx; pop rbx
                loop:   dec ecx
                        jnz loop
                        jmp start
                        ret
                """;
        assertArrayEquals(gnu(64, source), keystone.assemble(source, "snippet.S", 0));
    }

    @Test
    void syntaxError_isReportedAtItsFileAndLine() {
        String source = "mov rax, 1\nnop\nmovq2 rax, rbx\nret\n";
        AssemblyException e = assertThrows(AssemblyException.class, () -> keystone.assemble(source, "bad.S", 0));
        Diagnostic first = e.diagnostics().get(0);
        assertEquals("bad.S", first.file());
        assertEquals(3, first.line());
        assertTrue(first.message().contains("movq2"), first.message());
        assertTrue(e.getMessage().contains("bad.S:3: "), e.getMessage());
    }

    @Test
    void errorAfterAForwardReference_isStillLocatedAtTheBadLine() {
        String source = "jmp done\nnop\nmov eax, nosuchreg[\nnop\ndone: ret\n";
        AssemblyException e = assertThrows(AssemblyException.class, () -> keystone.assemble(source, "fwd.S", 0));
        assertEquals(3, e.diagnostics().get(0).line(), e.getMessage());
    }

    @Test
    void undefinedSymbol_isLocatedAtTheStatementUsingIt() {
        String source = "nop\nnop\ncall missing_function\nret\n";
        AssemblyException e = assertThrows(AssemblyException.class, () -> keystone.assemble(source, "sym.S", 0));
        assertEquals(3, e.diagnostics().get(0).line(), e.getMessage());
        assertTrue(e.getMessage().contains("symbol"), e.getMessage());
    }

    @Test
    void externalSymbolsSuppliedAsAssignments_resolve() {
        String source = "kernel_panic = 0x100040\ncall kernel_panic\nmov eax, LIMIT\nLIMIT = 42\n";
        byte[] code = keystone.assemble(source, "ext.S", 0x100000);
        // call rel32: target - (address + 5)
        assertEquals((byte) 0xe8, code[0]);
        assertEquals(0x100040 - 0x100005, java.nio.ByteBuffer.wrap(code, 1, 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
    }

    @Test
    void misassembledSpellings_areRejectedWithTheWorkingSpelling() {
        assertRejected(".code32\nstart: ljmp 0x08:start\n", 2, ".byte 0xea; .long start; .word 0x08");
        assertRejected("nop\niret\n", 2, "iretd");
        assertRejected(".code32\nlgdt [eax]\n", 2, ".byte 0x0f, 0x01, 0x10");
        assertRejected(".code16\nretf\n", 2, ".byte 0xcb");
        assertRejected("mov rcx, [0x1234]\n", 1, "register");
        assertRejected("mov eax, offset table\ntable: .long 1\n", 1, "lea");
        assertRejected("mov eax, table\ntable: .long 1\n", 1, "[table]");
        assertRejected("mov eax, [rbx+\n", 1, "incomplete operand");
        assertRejected("nop\n1: dec ecx\njnz 1b\n", 2, "`.L` name");
        assertRejected("msg = 0x1010\nlea rdi, [rip + msg]\n", 2, "movabs reg, msg");
        // Keystone: `and eax, ~F` is `23 05 ...` (and eax, [F]), GNU: `25 ...` (and eax, ~F)
        assertRejected("F = 0x80\nnop\nand eax, ~F\n", 3, "NAME_MASK = ~F");
        assertRejected("F = 0x80\nmov eax, 1 + F\n", 2, "NAME_MASK = 1 + F");
        assertRejected(".code32\nmov ds, ax\n", 2, "mov ds, eax");
        // Keystone: `[rdi + N * 8]` is `48 89 47 10` ([rdi + N]), GNU: `48 89 87 80 00 00 00`
        assertRejected("N = 0x10\nmov [rdi + N * 8], rax\n", 2, "N_OFFSET = N * 8");
    }

    @Test
    void immediateExpressions_thatKeystoneReadsRight_stillAssemble() {
        // starting with the symbol, or a named mask, or numbers only: the immediate GNU as gives
        assertEquals("2581000000", hex(keystone.assemble(".code32\nF = 0x80\nand eax, F + 1\n", "e.S", 0)));
        assertEquals("257fffffff", hex(keystone.assemble(".code32\nF = 0x80\nG = ~F\nand eax, G\n", "e.S", 0)));
        assertEquals("257fffffff", hex(keystone.assemble(".code32\nand eax, ~0x80\n", "e.S", 0)));
        assertEquals("480d81000000", hex(keystone.assemble("F = 0x80\nG = 1\nor rax, F | G\n", "e.S", 0)));
        assertEquals("b061", hex(keystone.assemble("mov al, 'a'\n", "e.S", 0)));
        assertEquals("8ed8", hex(keystone.assemble(".code32\nmov ds, eax\n", "e.S", 0)));
        // a register scaled, or a named product, inside brackets: GNU's bytes
        assertEquals("488944cf10", hex(keystone.assemble("N = 0x10\nmov [rdi + rcx * 8 + N], rax\n", "e.S", 0)));
        assertEquals("48898780000000", hex(keystone.assemble("N = 0x80\nmov [rdi + N], rax\n", "e.S", 0)));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }

    @Test
    void ripRelativeToALabelInTheSameSource_matchesGnuAs() {
        String source = "lea rdi, [rip + message]\nnop\nmessage: .byte 1\n";
        assertArrayEquals(gnu(64, source), keystone.assemble(source, "rip.S", 0));
    }

    @Test
    void sectionDirectives_areRejectedBeforeTheyTrapTheModule() {
        assertRejected("nop\n.section .data\n.long 1\n", 2, "section directives");
        assertRejected(".text\nnop\n", 1, "section directives");
        // the engine is still healthy afterwards
        assertArrayEquals(new byte[] {(byte) 0x90}, keystone.assemble("nop", "after.S", 0));
    }

    @Test
    void trapInsideTheModule_breaksOnlyThatEngine_andANewOneWorks() {
        try (KeystoneEngine engine = new KeystoneEngine()) {
            assertThrows(KeystoneTrapException.class, () -> engine.assemble(".text\nnop\n", 0));
            assertTrue(engine.broken());
            assertThrows(IllegalStateException.class, () -> engine.assemble("nop", 0));
        }
        try (KeystoneEngine fresh = new KeystoneEngine()) {
            assertArrayEquals(new byte[] {(byte) 0xc3}, fresh.assemble("ret", 0).output().bytes());
        }
    }

    @Test
    void corruptModule_isReportedAsUnavailable_notAsACrash() throws Exception {
        Path bogus = dir.resolve("keystone.wasm");
        Files.writeString(bogus, "not wasm");
        // KeystoneModule reads KEYSTONE_WASM from the environment, so the check runs in a child JVM.
        ProcessBuilder child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ModuleProbe.class.getName());
        child.environment().put(KeystoneModule.WASM_ENV, bogus.toString());
        Process process = child.redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        assertTrue(output.contains("is not a usable WebAssembly module"), output);
        assertTrue(output.contains("scripts/natives.sh"), output);
    }

    /** Run in a child JVM by the test above. */
    static final class ModuleProbe {
        public static void main(String[] args) {
            try {
                KeystoneModule.get();
                System.out.println("parsed?!");
                System.exit(1);
            } catch (KeystoneUnavailableException e) {
                System.out.println(e.getMessage());
            }
        }
    }

    @Test
    void emptySource_givesNoBytes_andLabelsOnly_giveNoBytesEither() {
        assertEquals(0, keystone.assemble("", "empty.S", 0).length);
        assertEquals(0, keystone.assemble("# only a comment\nhere:\n", "labels.S", 0).length);
    }

    @Test
    void numbersStayDecimal_becauseKsOptionIsNeverCalled() {
        assertArrayEquals(gnu(64, "mov eax, 42"), keystone.assemble("mov eax, 42", "dec.S", 0));
    }

    @Test
    void eachThread_getsItsOwnEngine_andAllResultsAreRight() throws Exception {
        byte[] expected = gnu(64, "mov eax, 7\nadd eax, ebx\nret");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<byte[]>> results = pool.invokeAll(List.of(
                    () -> keystone.assemble("mov eax, 7\nadd eax, ebx\nret", "t1.S", 0),
                    () -> keystone.assemble("mov eax, 7\nadd eax, ebx\nret", "t2.S", 0),
                    () -> keystone.assemble("mov eax, 7\nadd eax, ebx\nret", "t3.S", 0)));
            for (Future<byte[]> result : results) {
                assertArrayEquals(expected, result.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void objectFile_holdsTheSameTextAndSymbolsAsGnuAs() throws Exception {
        String body = ".global entry\nentry: mov eax, 1\nhelper: push rbx\n.Lskip: pop rbx\njmp .Lskip\nret\n";
        Path source = dir.resolve("obj.S");
        Files.writeString(source, body);
        Path ours = dir.resolve("keystone.o");
        keystone.assemble(source, List.of(), ours);
        Path gnuSource = dir.resolve("gnu.S");
        Files.writeString(gnuSource, ".intel_syntax noprefix\n" + body);
        Path theirs = dir.resolve("gnu.o");
        new GnuAssembler().assemble(gnuSource, List.of(), theirs);
        assertEquals(tool("objcopy", "-O", "binary", "-j", ".text", theirs.toString(), "/dev/stdout"),
                tool("objcopy", "-O", "binary", "-j", ".text", ours.toString(), "/dev/stdout"));
        assertEquals(symbols(theirs), symbols(ours));
    }

    private static String symbols(Path object) throws Exception {
        return tool("nm", object.toString());
    }

    private static String tool(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals(0, process.waitFor(), String.join(" ", command) + ": " + output);
        return output;
    }

    private void assertRejected(String source, int line, String spelling) {
        AssemblyException e = assertThrows(AssemblyException.class, () -> keystone.assemble(source, "q.S", 0));
        Diagnostic first = e.diagnostics().get(0);
        assertEquals(line, first.line(), e.getMessage());
        assertTrue(first.message().contains(spelling), "expected `" + spelling + "` in: " + first.message());
    }
}
