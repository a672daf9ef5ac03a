package dev.kemu.cli;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.toolchain.ToolchainException;
import dev.kemu.unicorn.UnicornException;
import picocli.CommandLine;

/** Turns the errors a user can cause or fix into one clear message and exit status 2; the rest keep their stack. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        if (e instanceof ToolchainException || e instanceof ElfFormatException || e instanceof NativeLibraryException
                || e instanceof UnicornException || e instanceof IllegalArgumentException) {
            commandLine.getErr().println("kemu: " + e.getMessage());
            return 2;
        }
        commandLine.getErr().println("kemu: internal error: " + e);
        e.printStackTrace(commandLine.getErr());
        return 70;
    }
}
