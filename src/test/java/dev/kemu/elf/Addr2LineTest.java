package dev.kemu.elf;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The long-lived addr2line against one-shot runs of it, its output parsing, and a machine without it. */
class Addr2LineTest {
    /** Inlined helpers at -O2, so that answers have several frames ({@code -i}). */
    private static final String SOURCE = """
            static inline int twice(int x) { return x * 2; }
            static inline int step(volatile int *p, int x)
            {
                *p = twice(x) + 1;
                return *p ^ x;
            }
            int loop(volatile int *p, int n)
            {
                int total = 0;
                for (int i = 0; i < n; i++)
                    total += step(p, i);
                return total;
            }
            int entry(volatile int *p) { return loop(p, 9) + step(p, 3); }
            """;
    private static final long TEXT = 0xffffffff80100000L;
    private static ElfImage image;

    private static synchronized ElfImage image() {
        if (image == null) {
            try {
                Path dir = Files.createTempDirectory("kemu-addr2line");
                Path c = Files.writeString(dir.resolve("inlined.c"), SOURCE);
                run("gcc", "-g", "-O2", "-ffreestanding", "-fno-pic", "-mcmodel=kernel", "-fno-asynchronous-unwind-tables",
                        "-c", c.toString(), "-o", dir.resolve("inlined.o").toString());
                run("ld", "-nostdlib", "-Ttext=0x" + Long.toHexString(TEXT), "-e", "entry",
                        dir.resolve("inlined.o").toString(), "-o", dir.resolve("inlined.elf").toString());
                image = ElfImage.read(dir.resolve("inlined.elf"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return image;
    }

    private static long textEnd() {
        return image().segments().stream().filter(s -> s.vaddr() == TEXT).mapToLong(s -> TEXT + s.memSize())
                .findFirst().orElseThrow();
    }

    @Provide
    Arbitrary<Long> codeAddresses() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(9, Arbitraries.longs().between(TEXT, textEnd() + 16)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(0, 0x1000)));
    }

    @Property(tries = 30)
    void longLivedProcess_answersAsAOneShotRunDoes(@ForAll @Size(min = 1, max = 40) List<@net.jqwik.api.From("codeAddresses") Long> addresses) {
        assumeTrue(addr2lineInstalled(), "addr2line (GNU binutils) is not installed");
        SymbolTable symbols = image().symbols();
        Map<Long, Optional<SourceLine>> expected = oneShot(image().path(), addresses);
        for (long address : addresses) {
            assertEquals(expected.get(address), symbols.sourceLine(address), "0x" + Long.toHexString(address));
        }
    }

    @Test
    void codeOfTheFile_hasLinesOfTheFile() {
        assumeTrue(addr2lineInstalled(), "addr2line (GNU binutils) is not installed");
        SourceLine line = image().symbols().sourceLine(image().symbols().address("entry")).orElseThrow();
        assertTrue(line.file().endsWith("inlined.c"), line.toString());
        assertTrue(line.line() >= 1 && line.line() <= SOURCE.lines().count(), line.toString());
        assertTrue(image().symbols().symbolize(image().symbols().address("entry")).matches("entry \\(inlined\\.c:\\d+\\)"));
    }

    @Test
    void missingAddr2line_givesSymbolsWithoutLines() {
        SymbolTable symbols = image().symbols()
                .withSourceLines(Addr2Line.forImage(image().path(), true, "/nonexistent/addr2line"));
        long entry = symbols.address("entry");
        assertEquals(Optional.empty(), symbols.sourceLine(entry));
        assertEquals("entry", symbols.symbolize(entry));
        assertEquals("entry+0x1", symbols.symbolize(entry + 1));
    }

    @Test
    void imageWithoutLineInformation_startsNoProcessAndHasNoLines() {
        assertEquals(SourceLines.NONE, Addr2Line.forImage(Path.of("/nonexistent.elf"), false));
    }

    @Test
    void parse_readsAddr2lineLocations() {
        assertEquals(Optional.of(new SourceLine("/src/os/kernel.c", 42)), Addr2Line.parse("/src/os/kernel.c:42"));
        assertEquals(Optional.of(new SourceLine("kernel.c", 7)), Addr2Line.parse("kernel.c:7 (discriminator 3)"));
        assertEquals(Optional.empty(), Addr2Line.parse("??:0"));
        assertEquals(Optional.empty(), Addr2Line.parse("??:?"));
        assertEquals(Optional.empty(), Addr2Line.parse("kernel.c:?"));
        assertEquals(Optional.empty(), Addr2Line.parse("kernel.c:0"));
        assertEquals("kernel.c:42", new SourceLine("/src/os/kernel.c", 42).shortText());
    }

    /** The innermost frame's location of each address, from one {@code addr2line -a -f -i} run over all of them. */
    private static Map<Long, Optional<SourceLine>> oneShot(Path elf, List<Long> addresses) {
        List<String> command = new ArrayList<>(List.of("addr2line", "-e", elf.toString(), "-a", "-f", "-C", "-i"));
        addresses.forEach(a -> command.add("0x" + Long.toHexString(a)));
        List<String> lines = run(command.toArray(String[]::new)).lines().toList();
        Map<Long, Optional<SourceLine>> answers = new HashMap<>();
        int i = 0;
        for (long address : addresses) {
            assertTrue(lines.get(i).matches("0x0*" + Long.toHexString(address)), lines.get(i));
            answers.put(address, Addr2Line.parse(lines.get(i + 2)));
            i++;
            while (i < lines.size() && !lines.get(i).matches("0x\\p{XDigit}+")) {
                i++;
            }
        }
        return answers;
    }

    static boolean addr2lineInstalled() {
        try {
            return new ProcessBuilder("addr2line", "--version").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
            }
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
