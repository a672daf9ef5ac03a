package dev.kemu.machine.devices;

import java.nio.file.Path;

/**
 * Where a UART's received bytes come from, as configured (a value: the same options can boot
 * twice); {@link #open()} makes the {@link SerialInput} of one boot.
 */
public sealed interface SerialSource {
    SerialInput open();

    /** Nothing is received: LSR.DR stays clear. */
    record None() implements SerialSource {
        @Override
        public SerialInput open() {
            return SerialInput.none();
        }

        @Override
        public String toString() {
            return "none";
        }
    }

    /** These bytes, then nothing. */
    record Bytes(byte[] bytes) implements SerialSource {
        public Bytes {
            bytes = bytes.clone();
        }

        @Override
        public SerialInput open() {
            return SerialInput.of(bytes);
        }

        @Override
        public String toString() {
            return bytes.length + " bytes";
        }
    }

    /** The contents of a file, read when the machine is built. */
    record File(Path path) implements SerialSource {
        @Override
        public SerialInput open() {
            return SerialInput.file(path);
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    /** The host's standard input, polled as the guest reads, never blocking it. */
    record StandardInput() implements SerialSource {
        @Override
        public SerialInput open() {
            return SerialInput.stream(System.in);
        }

        @Override
        public String toString() {
            return "-";
        }
    }

    public static SerialSource none() {
        return new None();
    }

    /** {@code -} is standard input, anything else a file. */
    static SerialSource parse(String argument) {
        return argument.equals("-") ? new StandardInput() : new File(Path.of(argument));
    }

    static SerialSource of(String text) {
        return new Bytes(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    }
}
