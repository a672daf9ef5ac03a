package dev.kemu.cli;

import dev.kemu.machine.NativeSetUp;

/**
 * The per-JVM native set-up of a boot ({@link NativeSetUp}), done on a second thread while the main one builds
 * the command line and reads the kernel, so that the boot finds it ready or waits for the rest. A failure here is
 * dropped: the boot meets the same one and reports it.
 *
 * <p>It creates loggers (the machine's classes have them), and slf4j-simple fixes a logger's level when it is
 * created, so it runs only when the command line cannot hold {@code -v} (see {@link #mayStart}).
 */
final class NativeWarmUp {
    private NativeWarmUp() {}

    /**
     * Whether {@code args} are a boot whose logging stays at the default level: no argument contains {@code -v}
     * (which also rules out {@code --verbose}, and values that merely look like it, to be safe). Not for
     * {@code boot --help} or {@code --version} either, which boot nothing.
     */
    static boolean mayStart(String[] args) {
        if (args.length == 0 || !args[0].equals("boot")) {
            return false;
        }
        for (String arg : args) {
            if (arg.contains("-v") || arg.equals("-h") || arg.equals("--help") || arg.equals("-V")
                    || arg.equals("--version")) {
                return false;
            }
        }
        return true;
    }

    static void start() {
        // slf4j initialises once; done here, on the main thread, so that no logger of the boot is a stand-in
        // created while the warm-up thread is initialising it.
        org.slf4j.LoggerFactory.getILoggerFactory();
        Thread thread = new Thread(NativeWarmUp::run, "kemu-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    private static void run() {
        try {
            BootArguments.hostMemoryMiB();
            NativeSetUp.prepare();
        } catch (RuntimeException | Error e) {
            // dropped: the boot meets the same problem and reports it
        }
    }
}
