package dev.kemu.kernel;

import dev.kemu.kernel.slab.SlubDebug;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Issue 17: -Dkemu.memoryDebug runs a whole suite with the memory debug modes (make test-memdebug). */
class SuiteMemoryDebugTest {
    @Test
    void all_isEverySlubModeAndKasan_partsJoinWithPlus() {
        assertEquals(new SuiteMemoryDebug(new SlubDebug(SlubDebug.ALL, List.of()), true), SuiteMemoryDebug.parse("all"));
        assertEquals(new SuiteMemoryDebug(SlubDebug.parse("ZU"), true), SuiteMemoryDebug.parse("ZU+kasan"));
        assertEquals(new SuiteMemoryDebug(SlubDebug.OFF, true), SuiteMemoryDebug.parse("kasan"));
        assertFalse(SuiteMemoryDebug.parse("").any());
        assertFalse(SuiteMemoryDebug.parse("none").any());
    }

    @Test
    void aBadPart_isRefusedNamingThePropertyThePartAndTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SuiteMemoryDebug.parse("FZ+kasn"));
        assertTrue(e.getMessage().startsWith("-Dkemu.memoryDebug=FZ+kasn: 'kasn' is neither 'kasan' nor slub_debug letters"),
                e.getMessage());
        assertTrue(e.getMessage().contains("use all, kasan, FZPU or FZPU+kasan"), e.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> SuiteMemoryDebug.parse("FZ+PU"));
        assertTrue(twice.getMessage().contains("two sets of slub_debug letters"), twice.getMessage());
    }

    @Test
    void findingsAreAppendedWithTheirTest_unlessEveryPartOfAnExpectedLineMatchesTheFindingOrItsTest(@TempDir Path dir) throws IOException {
        Path expectedFile = dir.resolve("expected.txt");
        Files.writeString(expectedFile, "# made on purpose\nObject already free @ Freed in mm_demo+   # the demo\n\n");
        List<List<String>> expected = SuiteMemoryDebug.readExpected(expectedFile.toString());
        assertEquals(List.of(List.of("Object already free", "Freed in mm_demo+")), expected);

        Path findings = dir.resolve("out/findings.txt");
        SuiteMemoryDebug.append(findings, "BUG kmalloc-32: Object already free\nINFO: Freed in mm_demo+0x177", expected, "T.a");
        assertFalse(Files.exists(findings), "an expected finding is not recorded");
        SuiteMemoryDebug.append(findings, "BUG kmalloc-32: Object already free\nINFO: Freed in kmain+0x10", expected, "T.b");
        SuiteMemoryDebug.append(findings, "BUG: KASAN: slab-use-after-free in poke", expected, "T.c");
        SuiteMemoryDebug.append(findings, "BUG: KASAN: vmalloc-out-of-bounds in kmain+0x34",
                List.of(List.of("vmalloc-out-of-bounds", "found while running dev.kemu.debug.PageFaultTest.")),
                "dev.kemu.debug.PageFaultTest.run");
        String text = Files.readString(findings);
        assertEquals("""
                BUG kmalloc-32: Object already free
                INFO: Freed in kmain+0x10
                  found while running T.b

                BUG: KASAN: slab-use-after-free in poke
                  found while running T.c

                """, text);
    }

    @Test
    void anUnreadableExpectedFile_isNamed(@TempDir Path dir) {
        String missing = dir.resolve("nope.txt").toString();
        var e = assertThrows(java.io.UncheckedIOException.class, () -> SuiteMemoryDebug.readExpected(missing));
        assertTrue(e.getMessage().startsWith("-Dkemu.memoryDebug.expected=" + missing + ": cannot read"), e.getMessage());
    }

    @Test
    void withoutTheSuiteModes_workForAnotherThreadIsLeftAsItIs() {
        assumeTrue(System.getProperty(SuiteMemoryDebug.PROPERTY, "").isEmpty(), "make test-memdebug sets the modes");
        Callable<String> work = () -> "ran";
        assertSame(work, SuiteMemoryDebug.attributed(work));
    }

    @Test
    void theTestOnTheStack_isTheInnermostTestClassMethod() {
        assertEquals("dev.kemu.kernel.SuiteMemoryDebugTest.theTestOnTheStack_isTheInnermostTestClassMethod",
                SuiteMemoryDebug.testOnStack().orElseThrow());
    }
}
