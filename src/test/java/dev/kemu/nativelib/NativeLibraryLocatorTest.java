package dev.kemu.nativelib;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each candidate that failed must say why: missing, or what the dynamic linker objected to. */
class NativeLibraryLocatorTest {
    /** An environment variable and property nobody sets, so only the folder and the sonames are tried. */
    private static final String UNSET = "KEMU_LOCATOR_TEST_UNSET_LIB";

    @TempDir
    Path dir;

    private NativeLibraryLocator locator(String... sonames) {
        return new NativeLibraryLocator("libkemutest", UNSET, dir.toString(), List.of(sonames), "Build it first.");
    }

    @Test
    void candidateThatIsNoLibrary_reportsTheDynamicLinkersReason() throws IOException {
        Files.writeString(dir.resolve("libkemutest.so"), "not an ELF file\n");
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> locator("libkemutest.so").load(Arena.ofAuto()));
        assertTrue(e.getMessage().startsWith("libkemutest at " + dir.resolve("libkemutest.so") + " could not be loaded: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("invalid ELF header") || e.getMessage().contains("file too short"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(". Build it first."), e.getMessage());
        assertNotNull(e.getCause());
    }

    @Test
    void nothingLoadable_listsEveryCandidateWithItsReason() {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> locator("libkemutest-missing-a.so.9", "libkemutest-missing-b.so.9").load(Arena.ofAuto()));
        String message = e.getMessage();
        assertTrue(message.startsWith("libkemutest not found (tried "), message);
        assertTrue(message.contains(dir.resolve("libkemutest-missing-a.so.9") + ": no such file"), message);
        assertTrue(message.contains("libkemutest-missing-b.so.9 (system): libkemutest-missing-b.so.9: "
                + "cannot open shared object file: No such file or directory"), message);
        assertTrue(message.endsWith("). Build it first."), message);
        assertEquals(2, e.getSuppressed().length, "one load failure per system soname");
    }
}
