package dev.kemu.testing;

import dev.kemu.toolchain.keystone.KeystoneModule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * What assembles test snippets and {@code runFile} assembly: Keystone in process (the default) or GNU
 * as + ld (forked per new snippet). Chosen by {@code -Dkemu.assembler=gnu|keystone}, else by
 * {@code kemu.assembler} in {@code kemu.properties} on the class path. When nothing chooses and the
 * Keystone module is missing (scripts/natives.sh could not fetch it), GNU is used and a note says why
 * once; when Keystone is chosen explicitly and missing, that is an error. Guest code in C is always
 * compiled by gcc and linked by GNU ld.
 */
public enum SnippetToolchain {
    KEYSTONE, GNU;

    public static final String PROPERTY = "kemu.assembler";
    private static volatile boolean noted;

    /** The toolchain the configuration asks for, falling back to GNU (with a note) when Keystone is missing. */
    public static SnippetToolchain configured() {
        Optional<String> chosen = Optional.ofNullable(System.getProperty(PROPERTY)).or(SnippetToolchain::fromProperties);
        if (chosen.isPresent()) {
            SnippetToolchain toolchain = parse(chosen.get());
            if (toolchain == KEYSTONE && !KeystoneModule.available()) {
                throw new IllegalStateException(PROPERTY + "=keystone, but the Keystone backend is unavailable: "
                        + KeystoneModule.unavailableReason().orElse("") + "; run scripts/natives.sh, or choose "
                        + PROPERTY + "=gnu");
            }
            return toolchain;
        }
        if (KeystoneModule.available()) {
            return KEYSTONE;
        }
        if (!noted) {
            noted = true;
            System.err.println("kemu: test snippets are assembled with GNU as, not Keystone: "
                    + KeystoneModule.unavailableReason().orElse("the Keystone module is unavailable"));
        }
        return GNU;
    }

    static SnippetToolchain parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "keystone" -> KEYSTONE;
            case "gnu" -> GNU;
            default -> throw new IllegalArgumentException(PROPERTY + "=" + text + " names no snippet assembler: "
                    + "choose keystone (in process, the default) or gnu (GNU as + ld)");
        };
    }

    private static Optional<String> fromProperties() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = SnippetToolchain.class.getClassLoader();
        }
        try (InputStream in = loader.getResourceAsStream(KernelUnderTest.PROPERTIES)) {
            if (in == null) {
                return Optional.empty();
            }
            Properties properties = new Properties();
            properties.load(in);
            return Optional.ofNullable(properties.getProperty(PROPERTY));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + KernelUnderTest.PROPERTIES + " from the class path", e);
        }
    }
}
