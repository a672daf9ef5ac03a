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
 * the {@code .native/} folder of kemu's home ({@link KemuHome}) that {@code scripts/natives.sh} fills
 * (run there first when kemu runs from its jar), and last the system's dynamic linker search path. When none loads, the message lists every candidate
 * with the reason it failed (missing file, or the dynamic linker's own words).
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
        List<Throwable> failures = new ArrayList<>();
        String nativesFailure = KemuHome.prepareNatives();
        if (nativesFailure != null) {
            tried.add(nativesFailure);
        }
        for (Path candidate : projectCandidates()) {
            if (Files.isRegularFile(candidate)) {
                return new Located(candidate.toString(), openPath(candidate, arena));
            }
            tried.add(candidate + ": no such file");
        }
        for (String soname : systemSonames) {
            try {
                return new Located(soname + " (system)", SymbolLookup.libraryLookup(soname, arena));
            } catch (IllegalArgumentException notLoaded) {
                // keep why, then try the next name
                tried.add(soname + " (system): " + DynamicLinkerError.reason(soname, notLoaded.getMessage()));
                failures.add(notLoaded);
            }
        }
        NativeLibraryException notFound = new NativeLibraryException(
                displayName + " not found (tried " + String.join(", ", tried) + "). " + howToGet);
        failures.forEach(notFound::addSuppressed);
        throw notFound;
    }

    private List<Path> projectCandidates() {
        Path dir = KemuHome.directory().resolve(projectRelativeDir);
        return systemSonames.stream().map(dir::resolve).toList();
    }

    private SymbolLookup openPath(Path path, Arena arena) {
        try {
            return SymbolLookup.libraryLookup(path, arena);
        } catch (IllegalArgumentException e) {
            throw new NativeLibraryException(displayName + " at " + path + " could not be loaded: "
                    + DynamicLinkerError.reason(path.toString(), e.getMessage()) + ". " + howToGet, e);
        }
    }
}
