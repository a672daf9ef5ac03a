package dev.kemu.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./kemu <command>}: the entry point. */
@Command(name = "kemu", mixinStandardHelpOptions = true, version = "kemu 0.1.0",
        description = "x86-64 kernel lab on the Unicorn Engine.",
        subcommands = {BootCommand.class, ExplainCommand.class, WhatIsCommand.class, AsmCommand.class, VersionCommand.class, CommandLine.HelpCommand.class})
public final class KemuCli {

    @Option(names = {"-v", "--verbose"}, description = "More log output: -v for debug, -vv for trace (a line per "
            + "hypercall and handled fault).", scope = CommandLine.ScopeType.INHERIT)
    void verbose(boolean[] flags) {
        // slf4j-simple reads its level when the first logger is created, which happens after parsing.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", flags.length > 1 ? "trace" : "debug");
    }

    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.exit(commandLine().execute(args));
    }

    /** The command line as {@code ./kemu} runs it: user errors become one message and a status of {@link ExitStatus}. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new KemuCli());
        ErrorHandler errors = new ErrorHandler();
        commandLine.setExecutionExceptionHandler(errors);
        commandLine.setParameterExceptionHandler(errors);
        return commandLine;
    }
}
