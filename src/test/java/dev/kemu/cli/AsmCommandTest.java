package dev.kemu.cli;

import dev.kemu.toolchain.keystone.KeystoneAssembler;
import dev.kemu.toolchain.keystone.KeystoneModule;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code kemu asm}: bytes beside Capstone's disassembly, which assembles back to the same bytes. */
class AsmCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void keystoneIsThere() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
    }

    @Test
    void listing_roundTripsThroughTheDisassembly() throws Exception {
        Path source = dir.resolve("loop.S");
        Files.writeString(source, "top: mov ecx, 10\nnext: add rax, [rbx+rcx*8+16]\ndec ecx\njnz next\njmp top\n");
        CliRun run = CliRun.of("asm", "--address", "0x200000", source.toString());
        assertEquals(ExitStatus.SUCCESS, run.exit(), run.all());
        List<String> lines = run.out().lines().toList();
        assertEquals(5, lines.size(), run.out());
        StringBuilder bytes = new StringBuilder();
        StringBuilder disassembly = new StringBuilder();
        for (String line : lines) {
            String[] columns = line.trim().split("\\s+", 3);
            bytes.append(columns[1]);
            disassembly.append(columns[2]).append('\n');
        }
        assertTrue(lines.get(0).startsWith("0000000000200000"), run.out());
        byte[] listed = HexFormat.of().parseHex(bytes);
        KeystoneAssembler keystone = new KeystoneAssembler();
        assertArrayEquals(keystone.assemble(Files.readString(source), "loop.S", 0x200000), listed);
        assertArrayEquals(listed, keystone.assemble(disassembly.toString(), "listing", 0x200000), disassembly.toString());
    }

    @Test
    void badSource_isAUsageErrorWithFileAndLine() throws Exception {
        Path source = dir.resolve("bad.S");
        Files.writeString(source, "nop\nmovq2 rax, rbx\n");
        CliRun run = CliRun.of("asm", source.toString());
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains(source + ":2: "), run.all());
    }

    @Test
    void badAddress_namesTheOption() {
        CliRun run = CliRun.of("asm", "--address", "zz", "x.S");
        assertEquals(ExitStatus.USAGE, run.exit(), run.all());
        assertTrue(run.err().contains("--address zz"), run.all());
    }
}
