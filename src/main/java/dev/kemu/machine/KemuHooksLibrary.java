package dev.kemu.machine;

import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.nativelib.NativeLibraryLocator;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * libkemu_hooks (native/kemu_hooks.c), loaded once per JVM, and the hook functions kemu takes from it. A function
 * is handed out only when the library's layout of the block it reads matches Java's ({@link NativeDispatchLayout}):
 * a library built from another kemu_hooks.c would read the wrong fields. Each caller falls back to a slower way of
 * its own when there is none, and the reason is logged once per function: a warning when the library is there but
 * unusable (the slowdown would be silent otherwise), information when it was never built.
 */
final class KemuHooksLibrary {
    static final NativeLibraryLocator LOCATOR = new NativeLibraryLocator("libkemu_hooks", "KEMU_HOOKS_LIB",
            ".native/hooks", List.of("libkemu_hooks.so"), "Run `make natives` (needs gcc) to build native/kemu_hooks.c.");

    private static final Map<String, Optional<MemorySegment>> FUNCTIONS = new ConcurrentHashMap<>();
    private static volatile Loaded loaded;

    /** The library, or why it could not be loaded. */
    private record Loaded(NativeLibraryLocator.Located library, NativeLibraryException problem) {}

    private KemuHooksLibrary() {
    }

    /**
     * Function {@code symbol}, whose block has {@code layout}; empty when the library is missing, lacks it or was
     * built with another layout. {@code what} names the hook and {@code fallBack} what is used instead, for the log.
     */
    static Optional<MemorySegment> function(String symbol, StructLayout layout, String what, String fallBack) {
        return FUNCTIONS.computeIfAbsent(symbol, s -> find(s, layout, what, fallBack));
    }

    private static Optional<MemorySegment> find(String symbol, StructLayout layout, String what, String fallBack) {
        Loaded library = library();
        var log = LoggerFactory.getLogger(KemuHooksLibrary.class);
        if (library.problem() != null) {
            log.info("{} unavailable, {}: {}", what, fallBack, library.problem().getMessage());
            return Optional.empty();
        }
        try {
            SymbolLookup lookup = library.library().lookup();
            MemorySegment function = lookup.find(symbol).orElseThrow(() -> new NativeLibraryException("libkemu_hooks at "
                    + library.library().source() + " lacks " + symbol + "; run `make natives` to rebuild it"));
            NativeDispatchLayout.check(lookup, library.library().source(), layout);
            return Optional.of(function);
        } catch (NativeLibraryException stale) {
            log.warn("{} refused, {}: {}", what, fallBack, stale.getMessage());
            return Optional.empty();
        }
    }

    private static Loaded library() {
        Loaded library = loaded;
        if (library == null) {
            synchronized (KemuHooksLibrary.class) {
                if (loaded == null) {
                    try {
                        loaded = new Loaded(LOCATOR.load(Arena.global()), null);
                    } catch (NativeLibraryException notBuilt) {
                        loaded = new Loaded(null, notBuilt);
                    }
                }
                library = loaded;
            }
        }
        return library;
    }
}
