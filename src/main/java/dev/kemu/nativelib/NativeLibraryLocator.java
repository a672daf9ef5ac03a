package dev.kemu.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds a native library in this order: an environment variable (e.g. {@code UNICORN_LIB}),
 * the same name as a system property in lower case with dots ({@code kemu.unicorn.lib}),
 * the project-local {@code .native/} folder that {@code scripts/natives.sh} fills, and last
 * the system's dynamic linker search path.
 */
public record NativeLibraryLocator(String displayName, String envVariable, String projectRelativeDir,
                                   List<String> systemSonames, String howToGet) {

    /** Where the library came from and the loaded lookup. */
    public record Located(String source, SymbolLookup lookup) {}

    public Located load(Arena arena) {
        List<String> tried = new ArrayList<>();
        String explicit = System.getenv(envVariable);
        if (explicit == null || explicit.isBlank()) {
            explicit = System.getProperty(envVariable.toLowerCase().replace('_', '.'));
        }
        if (explicit != null && !explicit.isBlank()) {
            Path path = Path.of(explicit);
            if (!Files.isRegularFile(path)) {
                throw new NativeLibraryException(envVariable + "=" + explicit + " does not name a file. " + howToGet);
            }
            return new Located(path.toString(), openPath(path, arena));
        }
        for (Path candidate : projectCandidates()) {
            tried.add(candidate.toString());
            if (Files.isRegularFile(candidate)) {
                return new Located(candidate.toString(), openPath(candidate, arena));
            }
        }
        for (String soname : systemSonames) {
            tried.add(soname + " (system)");
            try {
                return new Located(soname + " (system)", SymbolLookup.libraryLookup(soname, arena));
            } catch (IllegalArgumentException notFound) {
                // try the next name
            }
        }
        throw new NativeLibraryException(displayName + " not found (tried " + String.join(", ", tried) + "). " + howToGet);
    }

    private List<Path> projectCandidates() {
        String home = System.getProperty("kemu.home");
        if (home == null) {
            return List.of();
        }
        Path dir = Path.of(home).resolve(projectRelativeDir);
        return systemSonames.stream().map(dir::resolve).toList();
    }

    private SymbolLookup openPath(Path path, Arena arena) {
        try {
            return SymbolLookup.libraryLookup(path, arena);
        } catch (IllegalArgumentException e) {
            throw new NativeLibraryException(displayName + " at " + path + " could not be loaded: " + e.getMessage() + ". " + howToGet, e);
        }
    }
}
