package dev.kemu.toolchain;

/** One message of the assembler or linker, located in a source file when the tool said where. */
public record Diagnostic(String file, int line, String message) {
    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
    }
}
