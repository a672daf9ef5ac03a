package dev.kemu.cli;

import dev.kemu.machine.ExceptionState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PrivilegeState;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Insn;

/**
 * The per-JVM native set-up of a boot, done on a second thread while the main one builds the command line and
 * reads the kernel: the first FFM use, libunicorn's downcall handles, the upcall stubs of the hook shapes a boot
 * installs, and the calibration of the CPU-context fields ({@link ExceptionState}, {@link PrivilegeState}). All of
 * it is made once per JVM and shared, so the boot finds it ready; each piece is synchronised, so a boot that gets
 * there first simply does it itself. A failure here is dropped: the boot meets the same one and reports it.
 *
 * <p>It creates loggers (the machine's classes have them), and slf4j-simple fixes a logger's level when it is
 * created, so it runs only when the command line cannot hold {@code -v} (see {@link #mayStart}).
 */
final class NativeWarmUp {
    /** A throwaway machine's RAM: the smallest that maps like a boot's. */
    private static final long RAM = 1 << 20;
    private static final long MMIO = 0x10_0000;

    private NativeWarmUp() {}

    /**
     * Whether {@code args} are a boot whose logging stays at the default level: no argument contains {@code -v}
     * (which also rules out {@code --verbose}, and values that merely look like it, to be safe).
     */
    static boolean mayStart(String[] args) {
        if (args.length == 0 || !args[0].equals("boot")) {
            return false;
        }
        for (String arg : args) {
            if (arg.contains("-v")) {
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
            try (Machine machine = new Machine(RAM)) {
                machine.ram();
            }
            try (Unicorn engine = Unicorn.openX86_64()) {
                engine.hookCode(1, 0, (uc, address, size) -> {}).remove();
                engine.hookSkippable(X86Insn.CPUID, uc -> false).remove();
                engine.mmioMap(MMIO, 0x1000, (uc, offset, size) -> 0, (uc, offset, size, value) -> {}).close();
                engine.memMap(0, 0x1000, Prot.ALL);
                engine.flushTlb();
            }
            ExceptionState.get();
            PrivilegeState.get();
        } catch (RuntimeException | Error e) {
            // dropped: the boot meets the same problem and reports it
        }
    }
}
