package dev.kemu.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code ./kemu <command>}: the entry point. */
@Command(name = "kemu", mixinStandardHelpOptions = true, version = "kemu 0.1.0",
        description = "x86-64 kernel lab on the Unicorn Engine.")
public final class KemuCli {
    /**
     * The subcommands by name, in the order {@code kemu --help} lists them. Registered here rather than in
     * {@code @Command(subcommands = ...)} so that a run of one subcommand builds picocli's model of that one only:
     * the model is made by reflection over every option, a good part of start-up (docs/startup.md).
     */
    private static final Map<String, Class<?>> SUBCOMMANDS = new LinkedHashMap<>();

    static {
        SUBCOMMANDS.put("boot", BootCommand.class);
        SUBCOMMANDS.put("explain", ExplainCommand.class);
        SUBCOMMANDS.put("whatis", WhatIsCommand.class);
        SUBCOMMANDS.put("asm", AsmCommand.class);
        SUBCOMMANDS.put("version", VersionCommand.class);
        SUBCOMMANDS.put("help", CommandLine.HelpCommand.class);
    }

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
        if (NativeWarmUp.mayStart(args)) {
            NativeWarmUp.start();
        }
        System.exit(run(args));
    }

    /** What {@code ./kemu} runs, with the exit status returned rather than ending the JVM: the resident daemon's entry. */
    public static int run(String... args) {
        return commandLine(args).execute(args);
    }

    /** The command line as {@code ./kemu} runs it: user errors become one message and a status of {@link ExitStatus}. */
    public static CommandLine commandLine() {
        return withSubcommands(SUBCOMMANDS);
    }

    /**
     * The command line for {@code args}: when they name a subcommand (after only kemu's own flags), that one alone,
     * which parses and prints exactly as it does among all of them; otherwise ({@code kemu --help}, {@code kemu help
     * boot}, a typo that needs the suggestions) every subcommand.
     */
    static CommandLine commandLine(String... args) {
        for (String arg : args) {
            if (arg.equals("--") || !arg.startsWith("-")) {
                Class<?> only = SUBCOMMANDS.get(arg);
                return only == null || arg.equals("help") ? commandLine() : withSubcommands(Map.of(arg, only));
            }
        }
        return commandLine();
    }

    private static CommandLine withSubcommands(Map<String, Class<?>> subcommands) {
        CommandLine commandLine = new CommandLine(new KemuCli());
        subcommands.forEach(commandLine::addSubcommand);
        ErrorHandler errors = new ErrorHandler();
        commandLine.setExecutionExceptionHandler(errors);
        commandLine.setParameterExceptionHandler(errors);
        return commandLine;
    }
}
