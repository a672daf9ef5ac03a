package dev.kemu.cli;

import dev.kemu.boot.KernelBoot;
import dev.kemu.elf.AddressExpression;
import dev.kemu.gdb.GdbServer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Optional;

/** {@code --gdb[=PORT]} and {@code --gdb-wait=SYMBOL}: boot under a gdb remote stub instead of running freely. */
final class GdbOptions {
    @Option(names = "--gdb", paramLabel = "PORT", arity = "0..1", fallbackValue = "" + GdbServer.DEFAULT_PORT,
            description = "Stop before the first instruction and wait for gdb on 127.0.0.1:PORT (default 1234; "
                    + "in gdb: target remote :PORT).")
    Integer port;

    @Option(names = "--gdb-wait", paramLabel = "SYMBOL",
            description = "With --gdb: run to SYMBOL (e.g. kmain, kmain+0x10 or an address) before waiting for gdb.")
    String waitSymbol;

    boolean requested() {
        return port != null || waitSymbol != null;
    }

    /** Boots under the stub; the exit status is the guest's (QEMU's rule) when it ended, else 0. */
    int serve(BootArguments arguments, PrintWriter messages) {
        try (KernelBoot boot = new KernelBoot(arguments.images(), arguments.options(), arguments.protocol());
             GdbServer server = new GdbServer(port == null ? GdbServer.DEFAULT_PORT : port)) {
            Optional<Long> waitFor = Optional.ofNullable(waitSymbol).map(symbol -> {
                try {
                    return AddressExpression.parse(symbol).resolve(boot.symbols(), "the kernel");
                } catch (IllegalArgumentException e) {
                    throw arguments.usage("--gdb-wait=" + symbol + ": " + e.getMessage());
                }
            });
            boot.console().echoTo(b -> {
                System.out.write(b);
                if (b == '\n') {
                    System.out.flush();
                }
            });
            Optional<Integer> status = server.serve(boot, boot.firstInstruction(), waitFor, messages);
            System.out.flush();
            messages.println("kemu: gdb session ended" + status.map(s -> "; the guest exited with status " + s).orElse(""));
            messages.flush();
            return status.orElse(0);
        } catch (IOException e) {
            throw new UncheckedIOException("the gdb connection failed", e);
        }
    }
}
