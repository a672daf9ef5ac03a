package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.compiler.Cache;
import com.dylibso.chicory.compiler.InterpreterFallback;
import com.dylibso.chicory.compiler.MachineFactoryCompiler;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.WasmModule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Properties;
import java.util.function.Function;

/**
 * Keystone's module compiled to JVM classes by Chicory's compiler, kept beside the module as
 * {@code keystone-<sha256 of the module>-chicory-<version>.jar} (the generated code calls Chicory's
 * run-time, so another Chicory version compiles anew). A {@code .sha256} file beside it holds the
 * jar's own sha256 and is written last: a jar without it, or whose bytes do not match it, is an
 * unfinished or damaged write and is not loaded.
 */
final class KeystoneCompiledClasses {
    private KeystoneCompiledClasses() {
    }

    /** The compiled classes cannot be used; the message names the file and what to do. */
    static final class Unusable extends Exception {
        Unusable(String message) {
            super(message);
        }
    }

    /** Where the classes for the module whose sha256 is {@code moduleSha256} belong. */
    static Path jarFor(Path wasm, String moduleSha256) {
        Path dir = wasm.toAbsolutePath().getParent();
        return dir.resolve("keystone-" + moduleSha256 + "-chicory-" + chicoryVersion() + ".jar");
    }

    /** The jar for a parsed module (Chicory's parser records the module's sha256 as it reads). */
    static Path jarFor(Path wasm, WasmModule module) throws Unusable {
        String digest = module.digest();
        if (digest == null || !digest.startsWith("sha-256:")) {
            throw new Unusable("the module was parsed without its sha256 (com.dylibso.chicory.wasm.Parser."
                    + "DIGEST_ALGORITHM is set to " + digest + "), so its compiled classes cannot be found");
        }
        return jarFor(wasm, HexFormat.of().formatHex(Base64.getDecoder().decode(digest.substring(8))));
    }

    static Path checksumFile(Path jar) {
        return jar.resolveSibling(jar.getFileName() + ".sha256");
    }

    /** The jar's bytes, when it is complete and undamaged. */
    static byte[] read(Path jar) throws Unusable {
        Path sum = checksumFile(jar);
        if (!Files.isRegularFile(jar)) {
            throw new Unusable("Keystone's compiled classes " + jar + " are missing; `scripts/mvn.sh compile` (or"
                    + " make test) writes them once (about a minute), or, where kemu is a dependency, run"
                    + " dev.kemu.toolchain.keystone.KeystoneCompile on kemu's class path with -Xmx2g");
        }
        try {
            if (!Files.isRegularFile(sum)) {
                throw new Unusable(jar + " has no " + sum.getFileName() + " beside it (an unfinished write);"
                        + " delete the jar and run `scripts/mvn.sh compile` to compile Keystone again");
            }
            byte[] bytes = Files.readAllBytes(jar);
            String expected = Files.readString(sum).trim();
            if (!expected.equals(sha256(bytes))) {
                throw new Unusable(jar + " does not match its checksum in " + sum.getFileName() + " (damaged);"
                        + " delete both and run `scripts/mvn.sh compile` to compile Keystone again");
            }
            return bytes;
        } catch (IOException e) {
            throw new Unusable("cannot read " + jar + ": " + e);
        }
    }

    /** A machine factory made from the jar's classes; never compiles (that is {@link #write}'s job). */
    static Function<Instance, Machine> load(WasmModule module, Path jar) throws Unusable {
        if (module.digest() == null) {
            throw new Unusable("the module was parsed without its digest; Chicory would compile it instead of"
                    + " loading " + jar);
        }
        byte[] bytes = read(jar);
        try {
            return MachineFactoryCompiler.builder(module).withCache(new Present(bytes)).compile();
        } catch (RuntimeException | LinkageError e) {
            throw new Unusable(jar + " holds no usable compiled Keystone (" + e + "); delete it and its .sha256"
                    + " and run `scripts/mvn.sh compile` to compile Keystone again");
        }
    }

    /**
     * Compiles the module to JVM classes and writes them to {@code jar} (through a temporary file and a
     * rename, the checksum last). Functions too large for one JVM method stay on the interpreter
     * (Chicory prints a warning for each).
     */
    static void write(WasmModule module, Path jar) throws IOException {
        byte[][] produced = new byte[1][];
        MachineFactoryCompiler.builder(module)
                .withInterpreterFallback(InterpreterFallback.WARN)
                .withCache(new Cache() {
                    @Override
                    public byte[] get(String key) {
                        return null;
                    }

                    @Override
                    public void putIfAbsent(String key, byte[] data) {
                        produced[0] = data;
                    }
                })
                .compile();
        if (produced[0] == null) {
            throw new IOException("Chicory's compiler produced no classes for the module (its digest is "
                    + module.digest() + ")");
        }
        // The jar first, its checksum last, each whole or not at all: a reader that sees the checksum sees the jar.
        writeAtomically(jar, produced[0]);
        writeAtomically(checksumFile(jar), (sha256(produced[0]) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            tmp.toFile().setReadable(true, false);   // a temporary file is private; the jar is read like the module
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    static String sha256(Path file) {
        try {
            return sha256(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Chicory's version, from its jar's Maven metadata ("unknown" when run from a build without it). */
    static String chicoryVersion() {
        try (InputStream in = MachineFactoryCompiler.class.getResourceAsStream(
                "/META-INF/maven/com.dylibso.chicory/compiler/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM has SHA-256", e);
        }
    }

    /** Chicory's cache interface over bytes already read: loading from it never compiles. */
    private record Present(byte[] bytes) implements Cache {
        @Override
        public byte[] get(String key) {
            return bytes;
        }

        @Override
        public void putIfAbsent(String key, byte[] data) {
            // never reached: get always answers
        }
    }
}
