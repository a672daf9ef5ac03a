package dev.kemu.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kemu boot --leaks} and {@code --mm-svg FILE} on kemu's own kernel. */
class BootMemoryOutputsTest {
    @Test
    void leaks_onKemusKernel_reportNothing_becauseKmainFreesAllItAllocates() {
        CliRun run = CliRun.of("boot", "--leaks");
        assertEquals(ExitStatus.guestExit(0), run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("--- leaks ---\nkmemleak: 0 new suspected memory leaks"), run.out());
        assertTrue(!run.out().contains("unreferenced object"), run.out());
    }

    @Test
    void mmSvg_writesAWellFormedPictureWithItsSections(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("mm.svg");
        CliRun run = CliRun.of("boot", "--mm-svg", file.toString());
        assertEquals(ExitStatus.guestExit(0), run.exit(), run.out() + run.err());
        assertTrue(run.out().contains("memory picture written to " + file), run.out());
        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
        var groups = svg.getElementsByTagName("g");
        assertEquals(5, groups.getLength());
        assertEquals("physical", ((org.w3c.dom.Element) groups.item(0)).getAttribute("id"));
    }

    @Test
    void mmSvg_intoADirectoryThatDoesNotExist_isAUsageErrorNamingTheOption(@TempDir Path directory) {
        Path file = directory.resolve("missing/mm.svg");
        CliRun run = CliRun.of("boot", "--mm-svg", file.toString());
        assertEquals(2, run.exit(), run.out() + run.err());
        assertTrue(run.err().contains("--mm-svg " + file + ": cannot write the memory picture there"), run.err());
    }
}
