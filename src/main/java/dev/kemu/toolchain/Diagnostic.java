package dev.kemu.toolchain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One message of the assembler or linker, located in a source file when the tool said where. */
public record Diagnostic(String file, int line, String message) {
    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
    }

    /**
     * A tool's messages about {@code source}: each line {@code located} matches (groups: file, line,
     * message), each line {@code unlocated} accepts as a message about the whole file, and when none
     * is found but the tool said something, all of it.
     */
    static List<Diagnostic> parse(String output, Path source, Pattern located, Predicate<String> unlocated) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        for (String line : output.split("\\R")) {
            Matcher match = located.matcher(line);
            if (match.matches()) {
                diagnostics.add(new Diagnostic(match.group(1), Integer.parseInt(match.group(2)), match.group(3)));
            } else if (unlocated.test(line)) {
                diagnostics.add(new Diagnostic(source.toString(), 0, line));
            }
        }
        if (diagnostics.isEmpty() && !output.isBlank()) {
            diagnostics.add(new Diagnostic(source.toString(), 0, output.strip()));
        }
        return diagnostics;
    }
}
