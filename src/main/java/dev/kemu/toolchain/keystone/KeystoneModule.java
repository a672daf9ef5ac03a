package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Keystone 0.9.2's WebAssembly build ({@code .native/keystone/keystone.wasm}, fetched by
 * {@code scripts/natives.sh}), parsed once per JVM and shared by every {@link KeystoneEngine}:
 * a parsed module is immutable, the instances made from it are not.
 */
public final class KeystoneModule {
    /** Points kemu at another copy of the module (the same 0.9.2 build). */
    public static final String WASM_ENV = "KEYSTONE_WASM";
    static final String RELATIVE_PATH = ".native/keystone/keystone.wasm";

    private KeystoneModule() {
    }

    /** Where the module is expected: {@code $KEYSTONE_WASM}, else {@code .native/} under {@code kemu.home}. */
    public static Path location() {
        String override = System.getenv(WASM_ENV);
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        String home = System.getProperty("kemu.home", System.getProperty("user.dir"));
        return Path.of(home).resolve(RELATIVE_PATH);
    }

    /** Why Keystone cannot be used here, or empty when it can. */
    public static Optional<String> unavailableReason() {
        Path wasm = location();
        if (!Files.isRegularFile(wasm)) {
            return Optional.of("Keystone's WebAssembly module " + wasm + " is missing; run scripts/natives.sh"
                    + " (it needs npm once) or set " + WASM_ENV + "=/path/to/keystone.wasm");
        }
        return Optional.empty();
    }

    public static boolean available() {
        return unavailableReason().isEmpty();
    }

    private static WasmModule module;

    /**
     * The parsed module; the first call parses it (seconds), later calls return the same one.
     *
     * @throws KeystoneUnavailableException when the module is missing or is not a WebAssembly module
     */
    public static synchronized WasmModule get() {
        if (module == null) {
            unavailableReason().ifPresent(reason -> {
                throw new KeystoneUnavailableException(reason);
            });
            try {
                module = Parser.parse(location());
            } catch (RuntimeException e) {
                throw new KeystoneUnavailableException(location() + " is not a usable WebAssembly module (" + e
                        + "); delete .native/keystone and run scripts/natives.sh again");
            }
        }
        return module;
    }
}
