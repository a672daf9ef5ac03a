package dev.kemu.toolchain.keystone;

import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.testutil.TestKernels;
import dev.kemu.toolchain.AssemblyException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every code section of the kernel's own routines ({@code kernel-asm/*.S}) assembled by Keystone at
 * the address GNU ld linked it to, with the kernel's other symbols supplied as {@code sym = value}
 * lines, against the bytes of the GNU-linked kernel image. The outcome per file is pinned in
 * {@link #EXPECTED} (and docs/keystone.md): a change either way must be looked at.
 */
class KernelRoutinesDifferentialTest {
    /**
     * File and section: what Keystone gives today. Every one is refused by kemu's guards before
     * Keystone could emit different code (`offset`, numeric local labels, `[rip + external]`);
     * docs/keystone.md lists the spellings kernel-asm/ would need to change.
     */
    private static final Map<String, String> EXPECTED = new TreeMap<>(Map.of(
            "acpi.S .text", "REFUSED",
            "apic.S .text", "REFUSED",
            "smp.S .text", "REFUSED",
            "boot.S .boot.text", "REFUSED",
            "console.S .text", "REFUSED",
            "kmain.S .text", "REFUSED",
            "mm_demo.S .text", "REFUSED",
            "trampoline.S .boot.text", "REFUSED",
            "trampoline.S .text", "REFUSED"));

    @BeforeEach
    void keystoneIsThere() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
    }

    @Test
    void kernelCodeSections_matchTheGnuLinkedImage_orDifferAsListed() throws Exception {
        Path kernel = TestKernels.defaultKernel().kernel();
        ElfImage image = ElfImage.read(kernel);
        Map<String, Long> symbols = nm(kernel);
        Path asmDir = KernelSources.home().resolve("kernel-asm");
        Map<String, String> outcome = new TreeMap<>();
        List<String> report = new ArrayList<>();
        try (var files = Files.list(asmDir)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".S") && !p.endsWith("firmware.S")).sorted().toList()) {
                for (Map.Entry<String, List<String>> section : codeSections(file, asmDir.resolve("include")).entrySet()) {
                    String key = file.getFileName() + " " + section.getKey();
                    String result = compare(section.getValue(), symbols, image, key);
                    outcome.put(key, result.split(":")[0]);
                    report.add(key + ": " + result);
                }
            }
        }
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target/keystone-kernel-asm.txt"), report);
        assertEquals(EXPECTED, outcome, String.join("\n", report));
    }

    private static String compare(List<String> lines, Map<String, Long> symbols, ElfImage image, String key) {
        String firstLabel = lines.stream().map(String::strip).filter(l -> l.matches("[A-Za-z_][\\w.]*:.*"))
                .map(l -> l.substring(0, l.indexOf(':'))).findFirst().orElse(null);
        if (firstLabel == null || !symbols.containsKey(firstLabel)) {
            return "SKIPPED: no global label to place the section by";
        }
        long address = symbols.get(firstLabel);
        StringBuilder source = new StringBuilder();
        for (Map.Entry<String, Long> s : symbols.entrySet()) {
            boolean definedHere = lines.stream().anyMatch(l -> l.strip().startsWith(s.getKey() + ":"));
            if (!definedHere && !s.getKey().startsWith(".")) {
                source.append(s.getKey()).append(" = 0x").append(Long.toHexString(s.getValue())).append('\n');
            }
        }
        boolean beforeFirstLabel = true;
        for (String line : lines) {
            beforeFirstLabel &= !line.strip().startsWith(firstLabel + ":");
            if (!beforeFirstLabel || line.strip().startsWith(".code")) {
                source.append(line).append('\n');
            }
        }
        byte[] ours;
        try {
            ours = new KeystoneAssembler().assemble(source.toString(), key, address);
        } catch (AssemblyException e) {
            return "REFUSED: " + e.getMessage().replace('\n', ' ');
        }
        byte[] theirs = bytesAt(image, address, ours.length);
        if (Arrays.equals(ours, theirs)) {
            return "SAME: " + ours.length + " bytes at 0x" + Long.toHexString(address);
        }
        int first = Arrays.mismatch(ours, theirs);
        return "DIFFERENT: first at +0x" + Integer.toHexString(first) + " keystone="
                + HexFormat.of().formatHex(ours, first, Math.min(ours.length, first + 8)) + " gnu="
                + HexFormat.of().formatHex(theirs, first, Math.min(theirs.length, first + 8));
    }

    private static byte[] bytesAt(ElfImage image, long address, int length) {
        for (Segment segment : image.segments()) {
            if (address >= segment.vaddr() && address + length <= segment.vaddr() + segment.data().length) {
                int offset = (int) (address - segment.vaddr());
                return Arrays.copyOfRange(segment.data(), offset, offset + length);
            }
        }
        return new byte[0];
    }

    /** The lines of each code section ({@code .text}, {@code .boot.text}) with includes expanded. */
    private static Map<String, List<String>> codeSections(Path file, Path includeDir) throws IOException {
        Map<String, List<String>> sections = new LinkedHashMap<>();
        List<String> constants = new ArrayList<>();
        String current = null;
        for (String line : expand(file, includeDir)) {
            String s = line.strip();
            if (s.startsWith(".section") || s.equals(".text") || s.equals(".data")) {
                String name = s.equals(".text") || s.equals(".data") ? s : s.split("[\\s,]+")[1];
                current = name.contains("text") ? name : null;
                if (current != null) {
                    sections.computeIfAbsent(current, k -> new ArrayList<>(constants));
                }
            } else if (s.startsWith(".set") || s.startsWith(".equ")) {
                constants.add(line);
                sections.values().forEach(l -> l.add(line));
            } else if (current != null && !s.startsWith(".intel_syntax")) {
                sections.get(current).add(line);
            }
        }
        return sections;
    }

    private static List<String> expand(Path file, Path includeDir) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String s = line.strip();
            if (s.startsWith(".include")) {
                String name = s.substring(s.indexOf('"') + 1, s.lastIndexOf('"'));
                out.addAll(expand(includeDir.resolve(name), includeDir));
            } else {
                out.add(line);
            }
        }
        return out;
    }

    private static Map<String, Long> nm(Path elf) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("nm", elf.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        Map<String, Long> symbols = new HashMap<>();
        for (String line : output.split("\\R")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length == 3) {
                symbols.put(parts[2], Long.parseUnsignedLong(parts[0], 16));
            }
        }
        return symbols;
    }
}
