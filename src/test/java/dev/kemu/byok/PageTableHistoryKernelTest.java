package dev.kemu.byok;

import dev.kemu.testutil.GuestOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kemu boot --pt-history} on {@code badpte64} (PT entry 5 written read-only by a loop in kernel_main):
 * the fault report is followed by the instruction that last wrote the entry its walk ended at.
 */
class PageTableHistoryKernelTest {
    @TempDir
    Path dir;

    /** A {@code --pt-history} boot of badpte64: the tool's output, the faulting entry's value, its history line. */
    private record History(GuestOutput run, String entryValue, int line, long instruction, String oldValue,
                           String newValue) {
        String out() {
            return run.toolOutput();
        }
    }

    private History bootWithHistory(String commandLine) {
        GuestOutput run = KemuCommand.boot(TestKernelBuild.kernel("badpte64.elf"), dir, commandLine, "--pt-history");
        String out = run.toolOutput();
        Matcher entry = Pattern.compile("W clear in the PT entry 5 \\(at (P0x[0-9a-f]+) = (0x[0-9a-f]+)\\)").matcher(out);
        assertTrue(entry.find(), run::describe);
        Matcher history = Pattern.compile("page-table history: PT P0x[0-9a-f]+\\[5\\] @ " + entry.group(1)
                + ": last written at kernel_main\\+0x[0-9a-f]+ \\(badpte64.c:(\\d+)\\), instruction ([0-9,]+): "
                + "(0x[0-9a-f]+) -> (0x[0-9a-f]+)").matcher(out);
        assertTrue(history.find(), run::describe);
        return new History(run, entry.group(2), Integer.parseInt(history.group(1)),
                Long.parseLong(history.group(2).replace(",", "")), history.group(3), history.group(4));
    }

    @Test
    void theWrongEntry_isTracedToTheStoreInTheLoopThatWroteIt_withOldAndNewValue() throws Exception {
        History history = bootWithHistory(null);
        String out = history.out();
        assertEquals(lineOf("window_pt[page] = "), history.line(), "the store of the loop: " + out);
        assertEquals("0x0", history.oldValue(), "the loop writes the entry once, over the zeroed table: " + out);
        assertEquals(history.entryValue(), history.newValue(), "the value it wrote is the one the walk found: " + out);
        Matcher total = Pattern.compile(", (\\d+) instructions,").matcher(out);
        assertTrue(total.find() && history.instruction() > 0 && history.instruction() < Long.parseLong(total.group(1)),
                "written before the faulting instruction: " + out);
    }

    @Test
    void anEntryWrittenAThousandTimes_isTracedToItsLastWrite_whoseOldValueIsTheOneBefore() throws Exception {
        History history = bootWithHistory("rewrite");
        String out = history.out();
        assertEquals(lineOf("window_pt[page] = "), history.line(), "the mapping loop's store: " + out);
        // badpte64 stores i << 12 for i = 1..1000 before its mapping loop: the first write would read 0x0 -> 0x1000.
        assertEquals("0x" + Long.toHexString(1000L << 12), history.oldValue(), "the value of the 1000th rewrite: " + out);
        assertEquals(history.entryValue(), history.newValue(), "the value the walk found: " + out);
        assertEquals(1, out.split("page-table history:", -1).length - 1, "one history line: " + out);
    }

    @Test
    void withoutTheOption_theBootRunsOnceAndNamesNoWriter() {
        GuestOutput run = KemuCommand.boot(TestKernelBuild.kernel("badpte64.elf"), dir, null);
        assertFalse(run.toolOutput().contains("page-table history"), run::describe);
    }

    private static int lineOf(String marker) throws Exception {
        List<String> lines = Files.readAllLines(TestKernelBuild.source("badpte64.c"));
        List<Integer> found = IntStream.range(0, lines.size()).filter(i -> lines.get(i).contains(marker)).boxed().toList();
        assertEquals(1, found.size(), "badpte64.c must contain '" + marker + "' exactly once");
        return found.getFirst() + 1;
    }
}
