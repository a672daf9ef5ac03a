package dev.kemu.testing;

/**
 * The moment a user kernel's snapshot is taken: when execution first reaches a symbol, or just after the
 * kernel's first write to an I/O port (a marker the kernel writes when it is ready to be tested).
 */
public sealed interface SnapshotPoint {
    /** Before the first instruction at {@code name} runs. */
    record AtSymbol(String name) implements SnapshotPoint {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Just after the first {@code out} to {@code port}. */
    record AfterPortWrite(int port) implements SnapshotPoint {
        @Override
        public String toString() {
            return "port:0x" + Integer.toHexString(port);
        }
    }

    /** {@code kernel_main} or {@code port:0x501} (hexadecimal with 0x, else decimal). */
    static SnapshotPoint parse(String text) {
        String value = text == null ? "" : text.strip();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("snapshotAt is empty: name a kernel symbol (kernel_main) or a port "
                    + "marker (port:0x501)");
        }
        if (!value.startsWith("port:")) {
            return new AtSymbol(value);
        }
        String number = value.substring("port:".length()).strip();
        try {
            int port = number.startsWith("0x") || number.startsWith("0X")
                    ? Integer.parseInt(number.substring(2), 16) : Integer.parseInt(number);
            if (port < 0 || port > 0xffff) {
                throw new NumberFormatException();
            }
            return new AfterPortWrite(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("snapshotAt=\"" + text + "\": the port must be 0 to 0xffff, "
                    + "e.g. port:0x501", e);
        }
    }
}
