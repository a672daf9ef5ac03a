package dev.kemu.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code ./kemu SUBCOMMAND ...} registers only that subcommand; what the user sees must not change. */
class OneSubcommandModelTest {

    @ParameterizedTest
    @ValueSource(strings = {"boot --help", "-v boot --help", "boot -vv --help", "boot --no-such-option",
            "boot --ram", "boot --ram=abc", "version --help", "asm --help", "explain", "explain --help",
            "whatis --help", "boot extra-argument", "-- boot", "bot", "help boot", "--help", "version --bogus"})
    void sameOutputAndStatusAsWithEverySubcommand(String line) {
        String[] args = line.split(" ");
        assertEquals(run(KemuCli.commandLine(), args), run(KemuCli.commandLine(args), args), line);
    }

    @ParameterizedTest
    @ValueSource(strings = {"boot", "-v boot", "asm", "version"})
    void registersTheNamedSubcommandOnly(String line) {
        String[] args = line.split(" ");
        assertEquals(1, KemuCli.commandLine(args).getSubcommands().size(), line);
    }

    private static String run(CommandLine cli, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return "exit " + exit + "\n--- out ---\n" + out + "--- err ---\n" + err;
    }
}
