package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.Parser;
import com.dylibso.chicory.wasm.WasmModule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * Keystone 0.9.2's WebAssembly build ({@code .native/keystone/keystone.wasm}, fetched by
 * {@code scripts/natives.sh}), parsed once per JVM and shared by every {@link KeystoneEngine}:
 * a parsed module is immutable, the instances made from it are not.
 */
public final class KeystoneModule {
    private static final Logger LOG = LoggerFactory.getLogger(KeystoneModule.class);
    /** Points kemu at another copy of the module (the same 0.9.2 build). */
    public static final String WASM_ENV = "KEYSTONE_WASM";
    static final String RELATIVE_PATH = ".native/keystone/keystone.wasm";
    /** {@code -Dkemu.keystone.engine=interpreter} keeps Keystone on Chicory's interpreter even when compiled. */
    public static final String ENGINE_PROPERTY = "kemu.keystone.engine";

    /**
     * How the module's code runs: on JVM classes compiled from it ({@code compiled} is their machine
     * factory) or, when {@code compiled} is null, on Chicory's interpreter; {@code description} says
     * which, from where, or why not.
     */
    public record Execution(Function<Instance, Machine> compiled, String description) {
        public boolean isCompiled() {
            return compiled != null;
        }
    }

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
    private static Execution execution;

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

    /**
     * How this JVM runs Keystone, chosen once (logged): the compiled classes beside the module when they
     * are there and load, else the interpreter with the reason.
     */
    public static synchronized Execution execution() {
        if (execution == null) {
            execution = choose(get(), location(), System.getProperty(ENGINE_PROPERTY, "auto"));
            if (execution.isCompiled()) {
                LOG.debug("Keystone runs {}", execution.description());
            } else {
                LOG.warn("Keystone runs {}", execution.description());
            }
        }
        return execution;
    }

    /** The compiled classes failed while an instance was made: this JVM uses the interpreter from now on. */
    static synchronized Execution compiledFailed(Throwable failure) {
        execution = new Execution(null, "on Chicory's interpreter: the compiled classes failed (" + failure
                + "); delete .native/keystone/keystone-*.jar* and run `scripts/mvn.sh compile` to compile again");
        LOG.warn("Keystone runs {}", execution.description());
        return execution;
    }

    /** The choice for {@code module} read from {@code wasm}; {@code engine} is auto, compiled or interpreter. */
    static Execution choose(WasmModule module, Path wasm, String engine) {
        if (engine.equals("interpreter")) {
            return new Execution(null, "on Chicory's interpreter (-D" + ENGINE_PROPERTY + "=interpreter)");
        }
        if (!engine.equals("auto") && !engine.equals("compiled")) {
            throw new KeystoneUnavailableException("-D" + ENGINE_PROPERTY + "=" + engine
                    + " is not an engine; use compiled, interpreter or auto (compiled when present)");
        }
        try {
            Path jar = KeystoneCompiledClasses.jarFor(wasm, module);
            return new Execution(KeystoneCompiledClasses.load(module, jar), "compiled to JVM classes (" + jar + ")");
        } catch (KeystoneCompiledClasses.Unusable e) {
            if (engine.equals("compiled")) {
                throw new KeystoneUnavailableException("-D" + ENGINE_PROPERTY + "=compiled, but " + e.getMessage());
            }
            return new Execution(null, "on Chicory's interpreter, about 50x slower per snippet: " + e.getMessage());
        }
    }

    /**
     * What {@link #execution()} would choose, without parsing the module (for {@code kemu version}):
     * whether the compiled classes for this module are present and intact.
     */
    public static String describe() {
        Optional<String> unavailable = unavailableReason();
        if (unavailable.isPresent()) {
            return "unavailable: " + unavailable.get();
        }
        if (System.getProperty(ENGINE_PROPERTY, "auto").equals("interpreter")) {
            return "on Chicory's interpreter (-D" + ENGINE_PROPERTY + "=interpreter)";
        }
        Path jar = KeystoneCompiledClasses.jarFor(location(), KeystoneCompiledClasses.sha256(location()));
        try {
            KeystoneCompiledClasses.read(jar);
            return "compiled to JVM classes (" + jar + ")";
        } catch (KeystoneCompiledClasses.Unusable e) {
            return "on Chicory's interpreter: " + e.getMessage();
        }
    }
}
