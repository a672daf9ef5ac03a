package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KeystoneCompiledClasses#write}'s contract, on a one-function module that compiles in well under a second
 * (Keystone's own takes a minute): the jar and its checksum each appear whole by a rename, so a checksum that
 * is there is never half written, a stale or partial one from an earlier, interrupted build is replaced, and no
 * temporary file is left beside them.
 */
class CompiledClassesWriteTest {
    /** (module (func)): one type () -> (), one function of that type, an empty body. */
    private static final byte[] TINY_MODULE = {
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,   // "\0asm", version 1
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,               // type section: func () -> ()
            0x03, 0x02, 0x01, 0x00,                           // function section: function 0 has type 0
            0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};              // code section: no locals, end
    private static final String STALE_CHECKSUM = "3f2a9c";   // what a build stopped mid-write could leave

    @TempDir
    Path dir;

    private Path jar() {
        return dir.resolve("tiny.jar");
    }

    private Path checksum() {
        return KeystoneCompiledClasses.checksumFile(jar());
    }

    private static WasmModule module() {
        return Parser.parse(TINY_MODULE);
    }

    @Test
    void write_overAStaleJarAndPartialChecksum_leavesAChecksumThatParsesAndMatches_andNoTemporaryFiles()
            throws Exception {
        Files.write(jar(), new byte[]{1, 2, 3});
        Files.writeString(checksum(), STALE_CHECKSUM);

        KeystoneCompiledClasses.write(module(), jar());

        String written = Files.readString(checksum(), StandardCharsets.US_ASCII);
        assertTrue(written.matches("[0-9a-f]{64}\n"), "one sha256 in hex and a newline: " + written);
        assertEquals(KeystoneCompiledClasses.sha256(Files.readAllBytes(jar())), written.trim());
        assertArrayEquals(Files.readAllBytes(jar()), KeystoneCompiledClasses.read(jar()), "read() trusts it now");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(Set.of("tiny.jar", "tiny.jar.sha256"),
                    files.map(f -> f.getFileName().toString()).collect(Collectors.toSet()), "no .tmp left behind");
        }
    }

    @Test
    void write_replacesTheChecksumFileByARename_soAReaderOfTheOldOneNeverSeesHalfOfTheNew() throws Exception {
        Files.write(jar(), new byte[]{1, 2, 3});
        Files.writeString(checksum(), STALE_CHECKSUM);
        try (FileChannel oldJar = FileChannel.open(jar()); FileChannel oldChecksum = FileChannel.open(checksum())) {

            KeystoneCompiledClasses.write(module(), jar());

            // A write in place would truncate the open file and fill it again under its reader.
            assertEquals(STALE_CHECKSUM, contents(oldChecksum), "the old checksum file, untouched and whole");
            assertArrayEquals(new byte[]{1, 2, 3}, contents(oldJar).getBytes(StandardCharsets.ISO_8859_1),
                    "the old jar, untouched and whole");
        }
        assertEquals(KeystoneCompiledClasses.sha256(Files.readAllBytes(jar())),
                Files.readString(checksum()).trim(), "the name now holds the new checksum");
    }

    @Test
    void aChecksumCutShort_isRefusedAsDamaged_notTrustedAsAPrefix() throws Exception {
        KeystoneCompiledClasses.write(module(), jar());
        String whole = Files.readString(checksum()).trim();
        Files.writeString(checksum(), whole.substring(0, 32));

        var e = assertThrows(KeystoneCompiledClasses.Unusable.class, () -> KeystoneCompiledClasses.read(jar()));
        assertTrue(e.getMessage().contains("does not match its checksum") && e.getMessage().contains("delete both"),
                e.getMessage());
    }

    private static String contents(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(channel.size()));
        channel.read(buffer, 0);
        return new String(buffer.array(), StandardCharsets.ISO_8859_1);
    }
}
