package dev.kemu.toolchain;

import dev.kemu.elf.ElfImage;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GnuAssemblerTest {
    @TempDir
    Path dir;

    @Test
    void syntaxError_isReportedWithFileAndLine() {
        Path source = TestKernels.write(dir, "bad.S", """
                .intel_syntax noprefix
                .code64
                    mov rax, 1
                    movq2 rax, rbx
                    ret
                """);
        AssemblyException e = assertThrows(AssemblyException.class,
                () -> new GnuAssembler().assemble(source, List.of(), dir.resolve("bad.o")));
        Diagnostic first = e.diagnostics().get(0);
        assertEquals(source.toString(), first.file());
        assertEquals(4, first.line());
        assertTrue(first.message().contains("movq2"), first.message());
        assertTrue(e.getMessage().contains(source + ":4: "), e.getMessage());
    }

    @Test
    void errorInIncludedFile_pointsAtTheIncludedFile() {
        Path include = TestKernels.write(dir, "broken.inc", ".set X, \n");
        Path source = TestKernels.write(dir, "uses.S", ".include \"broken.inc\"\nnop\n");
        AssemblyException e = assertThrows(AssemblyException.class,
                () -> new GnuAssembler().assemble(source, List.of(dir), dir.resolve("uses.o")));
        assertTrue(e.diagnostics().stream().anyMatch(d -> d.file().endsWith("broken.inc") && d.line() == 1),
                e.getMessage());
    }

    @Test
    void missingAssembler_saysToInstallBinutils() {
        Path source = TestKernels.write(dir, "ok.S", "nop\n");
        ToolchainException e = assertThrows(ToolchainException.class,
                () -> new GnuAssembler("no-such-as-binary").assemble(source, List.of(), dir.resolve("ok.o")));
        assertTrue(e.getMessage().contains("install GNU binutils"), e.getMessage());
    }

    @Test
    void imageBuilder_linksHigherHalfImageWithLmaAndVma() throws Exception {
        Path source = TestKernels.write(dir, "tiny.S", """
                .intel_syntax noprefix
                .section .text, "ax"
                .global _start, high_code
                _start:
                high_code:
                    ret
                """);
        Path script = TestKernels.write(dir, "tiny.ld", """
                SECTIONS {
                  . = 0xffffffff80200000;
                  .text : AT(0x200000) { *(.text) }
                }
                """);
        Path elf = ImageBuilder.gnu().build(List.of(source), List.of(), script, dir.resolve("out/tiny.elf"));
        ElfImage image = ElfImage.read(elf);
        assertEquals(0xffffffff80200000L, image.segments().get(0).vaddr());
        assertEquals(0x200000L, image.segments().get(0).paddr());
        assertEquals(0xffffffff80200000L, image.symbols().address("high_code"));
        long built = Files.getLastModifiedTime(elf).toMillis();
        Thread.sleep(20);
        ImageBuilder.gnu().build(List.of(source), List.of(), script, dir.resolve("out/tiny.elf"));
        assertEquals(built, Files.getLastModifiedTime(elf).toMillis(), "an up-to-date image is not rebuilt");
    }

    @Test
    void linkError_namesTheUndefinedSymbol() {
        Path source = TestKernels.write(dir, "undef.S", ".intel_syntax noprefix\n.text\ncall missing_function\n");
        Path script = TestKernels.write(dir, "s.ld", "SECTIONS { . = 0x100000; .text : { *(.text) } }\n");
        ToolchainException e = assertThrows(ToolchainException.class,
                () -> ImageBuilder.gnu().build(List.of(source), List.of(), script, dir.resolve("undef.elf")));
        assertTrue(e.getMessage().contains("missing_function"), e.getMessage());
    }
}
