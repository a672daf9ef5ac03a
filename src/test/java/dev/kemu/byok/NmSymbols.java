package dev.kemu.byok;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A test kernel's symbols as binutils' {@code nm -S} lists them: the expected addresses of the test
 * kernels' fault sites come from the toolchain, not from kemu's own ELF reader.
 */
record NmSymbols(Path image, Map<String, Long> addresses, Map<String, Long> sizes) {

    static NmSymbols of(Path image) {
        try {
            Process nm = new ProcessBuilder("nm", "-S", image.toString()).redirectErrorStream(true).start();
            String listing = new String(nm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!nm.waitFor(30, TimeUnit.SECONDS) || nm.exitValue() != 0) {
                throw new IllegalStateException("nm -S " + image + " failed: " + listing);
            }
            Map<String, Long> addresses = new HashMap<>(), sizes = new HashMap<>();
            for (String line : listing.split("\n")) {
                String[] fields = line.trim().split("\\s+"); // address [size] type name
                if (fields.length >= 3) {
                    String name = fields[fields.length - 1];
                    addresses.put(name, Long.parseUnsignedLong(fields[0], 16));
                    if (fields.length == 4) {
                        sizes.put(name, Long.parseUnsignedLong(fields[1], 16));
                    }
                }
            }
            return new NmSymbols(image, addresses, sizes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run nm on " + image, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running nm", e);
        }
    }

    long address(String symbol) {
        Long address = addresses.get(symbol);
        if (address == null) {
            throw new IllegalArgumentException(image + " has no symbol '" + symbol + "'");
        }
        return address;
    }

    /** The address as the test kernels print it: 0x and lower-case hex, no leading zeros. */
    String hex(String symbol) {
        return "0x" + Long.toHexString(address(symbol));
    }

    /** Whether {@code address} lies inside the function {@code symbol}. */
    boolean inside(String symbol, long address) {
        long start = address(symbol);
        return Long.compareUnsigned(address, start) >= 0
                && Long.compareUnsigned(address, start + sizes.getOrDefault(symbol, 0L)) < 0;
    }
}
