package dev.kemu.testing;

import dev.kemu.elf.Symbol;
import dev.kemu.elf.SymbolTable;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A Keystone-assembled snippet as the disk cache keeps it (there is no ELF to keep): a magic, the end
 * offset, the image, and the labels with their addresses. A file that does not parse is treated as absent.
 * <pre>
 *   "kemu-ks1"  8 bytes
 *   codeEnd     int
 *   length      int, then the image
 *   count       int, then per label: name (modified UTF-8, as DataOutput writes it), address (long)
 * </pre>
 */
final class KeystoneSnippetFile {
    static final String SUFFIX = ".ks";
    private static final byte[] MAGIC = "kemu-ks1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private KeystoneSnippetFile() {}

    static Optional<SnippetAssembler.Snippet> read(SnippetCache cache, String key) {
        return cache.lookup(key).flatMap(KeystoneSnippetFile::parse);
    }

    static void write(SnippetCache cache, String key, SnippetAssembler.Snippet snippet) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeInt(snippet.codeEnd());
            out.writeInt(snippet.image().length);
            out.write(snippet.image());
            List<Symbol> labels = snippet.symbols().all();
            out.writeInt(labels.size());
            for (Symbol label : labels) {
                out.writeUTF(label.name());
                out.writeLong(label.address());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            cache.store(key, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("caching a Keystone snippet in " + cache.dir(), e);
        }
    }

    private static Optional<SnippetAssembler.Snippet> parse(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (!Arrays.equals(in.readNBytes(MAGIC.length), MAGIC)) {
                return Optional.empty();
            }
            int codeEnd = in.readInt();
            byte[] image = in.readNBytes(in.readInt());
            int count = in.readInt();
            List<Symbol> labels = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                labels.add(new Symbol(in.readUTF(), in.readLong(), 0, false));
            }
            return Optional.of(new SnippetAssembler.Snippet(image, codeEnd, new SymbolTable(labels)));
        } catch (IOException e) {
            return Optional.empty(); // truncated: build it again
        }
    }
}
