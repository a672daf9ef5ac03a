package dev.kemu.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole-process timer of `make bench`: rotation, the rounds file, and a run that goes wrong. */
class AlternatingProcessesTest {
    @TempDir
    Path dir;

    @Test
    void everyRoundRunsEachCommandOnceStartingOneFurtherAlong() throws IOException {
        Path order = dir.resolve("order"), rounds = dir.resolve("t.rounds");
        AlternatingProcesses.main(new String[]{rounds.toString(), "3", "0",
                "a|0|ran a|echo a >> " + order + "; echo ran a",
                "b|0|ran b|echo b >> " + order + "; echo ran b"});

        assertEquals(List.of("a", "b", "b", "a", "a", "b"), Files.readAllLines(order));
        List<String> lines = Files.readAllLines(rounds);
        assertEquals(4, lines.size());
        assertEquals("a b", lines.getFirst());
        for (String line : lines.subList(1, 4)) {
            String[] millis = line.split(" ");
            assertEquals(2, millis.length, line);
            for (String ms : millis) {
                assertTrue(Double.parseDouble(ms) > 0, line);
            }
        }
    }

    @Test
    void warmUpRoundsAreRunButNotKept() throws IOException {
        Path order = dir.resolve("order"), rounds = dir.resolve("w.rounds");
        AlternatingProcesses.main(new String[]{rounds.toString(), "1", "2", "a|0||echo a >> " + order});

        assertEquals(3, Files.readAllLines(order).size());
        assertEquals(2, Files.readAllLines(rounds).size());
    }

    @Test
    void aRunWithTheWrongStatusOrOutputIsRetriedOnceThenStopsTheBenchNamingIt() throws IOException {
        Path rounds = dir.resolve("f.rounds");
        Path runs = dir.resolve("runs");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AlternatingProcesses.main(
                new String[]{rounds.toString(), "1", "0", "broken|1|done|echo run >> " + runs + "; echo nearly; exit 3"}));
        assertTrue(e.getMessage().contains("broken: exit status 3 (expected 1), output lacks 'done'"), e.getMessage());
        assertEquals(2, Files.readAllLines(runs).size(), "run once more before giving up");
        assertFalse(Files.exists(rounds));
    }

    @Test
    void aMalformedSpecIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AlternatingProcesses.main(
                new String[]{dir.resolve("x").toString(), "1", "0", "name-without-status"}));
        assertEquals("not NAME|STATUS|EXPECTED|COMMAND: name-without-status", e.getMessage());
    }

    @Test
    void aRatioIsTheMedianOfThePairsNotTheRatioOfTheMedians() {
        // Pairs 2/1, 4/1, 9/3: medians 4 / 1 would say 4; the pairs say 3, from 2 to 4.
        BenchmarkReport.Ratio ratio = BenchmarkReport.Ratio.of(new double[]{2, 4, 9}, new double[]{1, 1, 3});

        assertEquals(3, ratio.median());
        assertEquals(2, ratio.min());
        assertEquals(4, ratio.max());
        assertEquals("3.00 (2.00 - 4.00)", ratio.text());
    }
}
