package dev.kemu.cli.daemon;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which requests the daemon runs itself: {@code boot} commands whose output cannot differ from a fresh JVM's.
 * Everything else goes back to the client, which runs the plain launcher, so the output is the same either way.
 */
final class ServePolicy {
    private ServePolicy() {}

    /** Why {@code args} are not served here, or empty when they are. */
    static Optional<String> refusal(List<String> args, Map<String, String> clientEnvironment,
                                    Map<String, String> daemonEnvironment) {
        if (args.stream().anyMatch(arg -> arg.contains("-v"))) {
            // slf4j-simple fixes a logger's level when the logger is made: per JVM, not per request
            return Optional.of("-v: log levels are fixed per JVM");
        }
        if (args.isEmpty() || !args.getFirst().equals("boot")) {
            return Optional.of("only boot is served");
        }
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.startsWith("--gdb")) {
                return Optional.of("--gdb waits for a debugger");
            }
            if (arg.equals("--serial-input=-") || arg.equals("--serial-input") && i + 1 < args.size()
                    && args.get(i + 1).equals("-")) {
                return Optional.of("--serial-input - reads the terminal");
            }
            if (arg.equals("-h") || arg.equals("--help") || arg.equals("-V") || arg.equals("--version")) {
                return Optional.of("help output depends on the terminal (colours)");
            }
        }
        if (!clientEnvironment.equals(daemonEnvironment)) {
            return Optional.of("the environment kemu reads differs from the daemon's");
        }
        return Optional.empty();
    }
}
