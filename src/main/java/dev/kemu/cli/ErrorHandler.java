package dev.kemu.cli;

import dev.kemu.elf.ElfFormatException;
import dev.kemu.nativelib.NativeLibraryException;
import dev.kemu.toolchain.ToolchainException;
import dev.kemu.unicorn.UnicornException;
import picocli.CommandLine;

/**
 * Turns the errors a user can cause or fix into one clear message and a documented status ({@link ExitStatus});
 * the rest are kemu's defects and keep their stack.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        if (e instanceof ToolchainException || e instanceof ElfFormatException || e instanceof NativeLibraryException
                || e instanceof UnicornException || e instanceof IllegalArgumentException) {
            commandLine.getErr().println("kemu: " + e.getMessage());
            return ExitStatus.USAGE;
        }
        commandLine.getErr().println("kemu: internal error: " + e);
        e.printStackTrace(commandLine.getErr());
        return ExitStatus.INTERNAL;
    }

    /** A bad command line: the message and where to read the options, not the whole usage text. */
    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        command.getErr().println("kemu: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, command.getErr());
        command.getErr().println("Run './kemu help " + (command.getParent() == null ? "" : command.getCommandName())
                .trim() + "' for the options.");
        command.getErr().flush();
        return ExitStatus.USAGE;
    }
}
