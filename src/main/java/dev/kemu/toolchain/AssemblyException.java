package dev.kemu.toolchain;

import java.util.List;

/** The assembler rejected a source file. */
public final class AssemblyException extends ToolchainException {
    public AssemblyException(String summary, List<Diagnostic> diagnostics) {
        super(summary, diagnostics);
    }
}
