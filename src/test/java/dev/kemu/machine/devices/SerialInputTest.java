package dev.kemu.machine.devices;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a UART receives: bytes in order, a stream polled without blocking, a missing file named. */
class SerialInputTest {
    @Test
    void aStreamWithNothingWritten_isNotReady_withoutBlocking_thenDeliversWhatArrives() throws IOException {
        PipedOutputStream host = new PipedOutputStream();
        SerialInput input = SerialInput.stream(new PipedInputStream(host));
        assertFalse(input.available(), "no byte yet: DR clear, and the guest is not stalled");
        host.write(new byte[]{'h', 'i'});
        assertEquals(OptionalInt.of('h'), input.next());
        assertEquals(OptionalInt.of('i'), input.next());
        assertEquals(OptionalInt.empty(), input.next());
        host.close();
        assertFalse(input.available(), "a closed stream is the end of the input");
    }

    @Test
    void aMissingFile_isAnErrorNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("nothing.txt");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SerialInput.file(missing));
        assertEquals("serial input " + missing + ": no such file; give an existing file, or - for standard input",
                e.getMessage());
    }

    /** However the bytes arrive in chunks, the guest reads them in order, each once, and then none. */
    @Property(tries = 200)
    void chunkedStreamBytes_arriveInOrderExactlyOnce(@ForAll @Size(max = 8) List<@Size(max = 6) List<Byte>> chunks)
            throws IOException {
        PipedOutputStream host = new PipedOutputStream();
        SerialInput input = SerialInput.stream(new PipedInputStream(host, 64));
        ByteArrayOutputStream sent = new ByteArrayOutputStream(), received = new ByteArrayOutputStream();
        for (List<Byte> chunk : chunks) {
            for (byte b : chunk) {
                host.write(b);
                sent.write(b);
            }
            while (input.available()) {
                received.write(input.next().orElseThrow());
            }
        }
        assertArrayEquals(sent.toByteArray(), received.toByteArray());
        assertTrue(input.next().isEmpty());
    }
}
