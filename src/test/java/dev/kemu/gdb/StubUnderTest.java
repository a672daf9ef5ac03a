package dev.kemu.gdb;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A kernel booted under the stub on a free loopback port, served on its own thread. */
final class StubUnderTest implements AutoCloseable {
    private final KernelBoot boot;
    private final GdbServer server;
    private final CompletableFuture<Optional<Integer>> session;
    private final StringWriter messages = new StringWriter();

    StubUnderTest(KernelSources.BuiltImages images) {
        this(images, BootOptions.defaults());
    }

    StubUnderTest(KernelSources.BuiltImages images, BootOptions options) {
        boot = new KernelBoot(images, options);
        server = new GdbServer(0);
        session = CompletableFuture.supplyAsync(() -> {
            try {
                return server.serve(boot, boot.firstInstruction(), Optional.empty(), new PrintWriter(messages));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    int port() {
        return server.port();
    }

    KernelBoot boot() {
        return boot;
    }

    /** Waits for the session to end and returns the guest's exit status, if it exited. */
    Optional<Integer> ended() throws Exception {
        return session.get(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        server.close();
        try {
            session.get(60, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the session's own failure is what the test asserted on, if it cared
        }
        boot.close();
    }
}
