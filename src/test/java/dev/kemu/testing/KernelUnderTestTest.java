package dev.kemu.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a test names its kernel: snapshot points, and kemu.properties on the test class path. */
class KernelUnderTestTest {
    @Test
    void parse_symbolAndPortMarkers() {
        assertEquals(new SnapshotPoint.AtSymbol("kernel_main"), SnapshotPoint.parse(" kernel_main "));
        assertEquals(new SnapshotPoint.AfterPortWrite(0x501), SnapshotPoint.parse("port:0x501"));
        assertEquals(new SnapshotPoint.AfterPortWrite(80), SnapshotPoint.parse("port:80"));
        assertEquals("port:0x501", SnapshotPoint.parse("port:0x501").toString());
    }

    @Test
    void parse_badPort_namesTheValueAndTheForm() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> SnapshotPoint.parse("port:0x10000"));
        assertTrue(error.getMessage().contains("port:0x10000") && error.getMessage().contains("e.g. port:0x501"),
                error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SnapshotPoint.parse("port:x"));
        assertThrows(IllegalArgumentException.class, () -> SnapshotPoint.parse(" "));
    }

    @Test
    void fromProperties_readsImageSnapshotRamAndCommandLine(@TempDir Path dir) throws IOException {
        Path image = Files.writeString(dir.resolve("kernel.elf"), "not read here");
        Files.writeString(dir.resolve(KernelUnderTest.PROPERTIES), "kemu.kernel.image=" + image
                + "\nkemu.kernel.snapshotAt=port:0x501\nkemu.kernel.ramMiB=32\nkemu.kernel.cmdline=quiet\n");
        KernelUnderTest kernel = fromPropertiesIn(dir).orElseThrow();
        assertEquals(new KernelUnderTest(image, new SnapshotPoint.AfterPortWrite(0x501), 32L << 20, "quiet"), kernel);
    }

    @Test
    void fromProperties_withoutTheFile_isEmpty(@TempDir Path dir) throws IOException {
        assertEquals(Optional.empty(), fromPropertiesIn(dir));
    }

    @Test
    void fromProperties_missingImage_saysWhichKeyToAdd(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(KernelUnderTest.PROPERTIES), "kemu.kernel.snapshotAt=kmain\n");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> fromPropertiesIn(dir));
        assertTrue(error.getMessage().contains("kemu.kernel.image=build/kernel.elf"), error.getMessage());
    }

    @Test
    void missingImage_namesThePathAndTheProjectDirectory() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new KernelUnderTest(
                ProjectFiles.resolve("build/no-such-kernel.elf"), new SnapshotPoint.AtSymbol("kmain"), 64L << 20, ""));
        assertTrue(error.getMessage().contains("build/no-such-kernel.elf") && error.getMessage().contains("build your kernel"),
                error.getMessage());
    }

    private static Optional<KernelUnderTest> fromPropertiesIn(Path dir) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[]{dir.toUri().toURL()}, null)) {
            return KernelUnderTest.fromProperties(loader);
        }
    }
}
