package dev.kemu.cli.daemon;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What native/kemu_client.c sends: a count, then that many strings (u32 big-endian length, UTF-8 bytes). A run is
 * {@code run, cwd, argc, argv..., envc, NAME=VALUE...}; a control request is {@code status} or {@code stop} alone.
 */
record DaemonRequest(String kind, Path cwd, List<String> args, Map<String, String> environment) {
    private static final int MAX_STRINGS = 4096, MAX_BYTES = 1 << 20;

    static DaemonRequest read(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int count = in.readInt();
        if (count < 1 || count > MAX_STRINGS) {
            throw new IOException("a request of " + count + " strings; the client and daemon differ in version");
        }
        List<String> strings = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = in.readInt();
            if (length < 0 || length > MAX_BYTES) {
                throw new IOException("a request string of " + length + " bytes");
            }
            byte[] bytes = in.readNBytes(length);
            if (bytes.length != length) {
                throw new EOFException("the client closed the connection inside its request");
            }
            strings.add(new String(bytes, StandardCharsets.UTF_8));
        }
        String kind = strings.getFirst();
        if (!kind.equals("run")) {
            return new DaemonRequest(kind, null, List.of(), Map.of());
        }
        try {
            int argc = Integer.parseInt(strings.get(2));
            List<String> args = List.copyOf(strings.subList(3, 3 + argc));
            int envc = Integer.parseInt(strings.get(3 + argc));
            Map<String, String> environment = new TreeMap<>();
            for (String entry : strings.subList(4 + argc, 4 + argc + envc)) {
                int equals = entry.indexOf('=');
                environment.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
            return new DaemonRequest(kind, Path.of(strings.get(1)), args, environment);
        } catch (RuntimeException e) {
            throw new IOException("a malformed run request (" + e + ")", e);
        }
    }

    /** The variables kemu reads, as native/kemu_client.c selects them from an environment. */
    static boolean readByKemu(String name) {
        return name.startsWith("KEMU_") ? !name.startsWith("KEMU_DAEMON")
                : List.of("PATH", "LANG", "LC_ALL", "LC_CTYPE", "UNICORN_LIB", "CAPSTONE_LIB", "KEYSTONE_WASM",
                        "XDG_CACHE_HOME").contains(name);
    }
}
