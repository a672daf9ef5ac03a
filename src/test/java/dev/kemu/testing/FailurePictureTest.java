package dev.kemu.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failing test's memory picture: written where asked, named after the test, a well-formed SVG; off when turned off. */
@ExtendWith(KemuExtension.class)
class FailurePictureTest {
    @Test
    void pictureOfTheLastRun_isWrittenIntoTheChosenDirectory(Guest guest, @TempDir Path directory) throws Exception {
        GuestRun run = guest.run("nop");
        Optional<String> line = FailurePicture.write(run, "SomeTest", "someMethod", directory.toString());
        Path file = directory.resolve("SomeTest.someMethod.mm.svg");
        assertEquals(Optional.of("memory picture: " + file.toAbsolutePath()), line);
        assertTrue(Files.size(file) > 1000);
        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
        assertEquals("svg", svg.getDocumentElement().getTagName());
    }

    @Test
    void off_writesNothing(Guest guest, @TempDir Path directory) throws Exception {
        GuestRun run = guest.run("nop");
        assertEquals(Optional.empty(), FailurePicture.write(run, "SomeTest", "someMethod", "off"));
        try (var files = Files.list(directory)) {
            assertFalse(files.findAny().isPresent());
        }
    }
}
