package dev.kemu.toolchain;

import java.util.List;
import java.util.stream.Collectors;

/** Assembling or linking failed. {@link #diagnostics()} hold the tool's messages as {@code file:line: message}. */
public class ToolchainException extends RuntimeException {
    private final List<Diagnostic> diagnostics;

    public ToolchainException(String summary, List<Diagnostic> diagnostics) {
        super(summary + (diagnostics.isEmpty() ? "" : System.lineSeparator()
                + diagnostics.stream().map(Diagnostic::toString).collect(Collectors.joining(System.lineSeparator()))));
        this.diagnostics = List.copyOf(diagnostics);
    }

    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }
}
