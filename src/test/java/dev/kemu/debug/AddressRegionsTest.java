package dev.kemu.debug;

import dev.kemu.elf.ImageSections;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.testing.TestMachine;
import dev.kemu.testutil.TestKernels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The regions {@code kemu explain} names: image sections as binutils lists them, snippets, kemu's areas. */
class AddressRegionsTest {
    @Test
    void imageSections_areTheAllocatedSectionsReadelfLists() throws Exception {
        Path kernel = TestKernels.defaultKernel().kernel();
        List<String> ours = ImageSections.read(kernel).sections().stream()
                .map(s -> s.name() + " " + Long.toHexString(s.address()) + " " + Long.toHexString(s.size())).toList();
        assertTrue(ours.stream().anyMatch(s -> s.startsWith(".text ")) && ours.stream().anyMatch(s -> s.startsWith(".bss ")),
                ours.toString());
        assertEquals(readelfAllocated(kernel), ours);
    }

    @Test
    void snippetDirectMapAndVmalloc_areNamedInATestMachine() {
        try (TestMachine tm = new TestMachine()) {
            tm.run("""
                    jmp 2f
                helper_label:
                    nop
                    ret
                2:
                """, Map.of(), 10_000);
            FaultAnalyzer analyzer = tm.boot().faultAnalyzer();
            ImageSections sections = ImageSections.read(tm.boot().kernel().path());
            long helper = TestMachine.CODE_VA + 2; // after the two-byte jmp
            assertTrue(analyzer.regionsOf(helper + 1, sections)
                    .contains("snippet area (guest code loaded after boot, helper_label+0x1)"),
                    analyzer.regionsOf(helper + 1, sections).toString());
            for (long physical : new long[]{0, 0x1000, 0x201234, tm.memory().root().ramBytes() - 1}) {
                List<String> regions = analyzer.regionsOf(MmLayout.DIRECT_MAP_BASE + physical, sections);
                assertTrue(regions.stream().anyMatch(r -> r.startsWith("direct map of RAM ")
                        && r.endsWith("physical P0x" + Long.toHexString(physical))), regions.toString());
            }
            assertEquals(List.of(), analyzer.regionsOf(MmLayout.DIRECT_MAP_BASE + tm.memory().root().ramBytes(),
                    sections));
            assertTrue(analyzer.regionsOf(MmLayout.VMALLOC_START + 0x5000, sections).getFirst()
                    .startsWith("vmalloc area [V0x" + Long.toHexString(MmLayout.VMALLOC_START)));
        }
    }

    /** {@code name address size} of each SHF_ALLOC section with a size, from {@code readelf -SW}. */
    private static List<String> readelfAllocated(Path elf) throws Exception {
        Process readelf = new ProcessBuilder("readelf", "-SW", elf.toString()).redirectErrorStream(true).start();
        List<String> sections = new ArrayList<>();
        for (String line : new String(readelf.getInputStream().readAllBytes()).lines().toList()) {
            // [ 3] .text PROGBITS ffffffff80106000 002000 000679 00 AX 0 0 1
            String[] f = line.replaceFirst("^\\s*\\[\\s*\\d+\\]\\s*", "").trim().split("\\s+");
            if (line.trim().startsWith("[") && f.length >= 7 && f[0].startsWith(".") && f[6].contains("A")
                    && Long.parseLong(f[4], 16) > 0) {
                sections.add(f[0] + " " + Long.toHexString(Long.parseUnsignedLong(f[2], 16)) + " "
                        + Long.toHexString(Long.parseLong(f[4], 16)));
            }
        }
        assertEquals(0, readelf.waitFor());
        return sections;
    }
}
