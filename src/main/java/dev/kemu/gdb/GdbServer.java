package dev.kemu.gdb;

import dev.kemu.boot.KernelBoot;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Optional;

/** Waits on a loopback port for one gdb and serves it; the guest stays stopped before its first instruction until then. */
public final class GdbServer implements AutoCloseable {
    public static final int DEFAULT_PORT = 1234;

    private final ServerSocket socket;

    /** Binds 127.0.0.1:{@code port} (0 = any free port); a port in use is a clear error. */
    public GdbServer(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--gdb port " + port + ": must be 1..65535");
        }
        try {
            socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
        } catch (BindException e) {
            throw new IllegalArgumentException("--gdb=" + port + ": port " + port + " is in use (another kemu or QEMU -s?); "
                    + "choose another with --gdb=PORT");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port + " for gdb", e);
        }
    }

    public int port() {
        return socket.getLocalPort();
    }

    /**
     * Serves one gdb session on {@code boot}: the guest starts stopped at {@code firstInstruction},
     * or, with {@code waitFor}, runs to that address first. Returns the exit status the guest ended
     * with, if it ended.
     */
    public Optional<Integer> serve(KernelBoot boot, long firstInstruction, Optional<Long> waitFor, PrintWriter messages)
            throws IOException {
        try (GdbStub stub = new GdbStub(boot, firstInstruction)) {
            waitFor.ifPresent(stub::runTo);
            StubWarmUp.run(stub, boot.machine());
            messages.printf("kemu: waiting for gdb on 127.0.0.1:%d (in gdb: target remote :%d)%n", port(), port());
            messages.flush();
            try (Socket client = socket.accept()) {
                client.setTcpNoDelay(true);
                messages.printf("kemu: gdb connected from %s%n", client.getRemoteSocketAddress());
                messages.flush();
                stub.serve(client.getInputStream(), client.getOutputStream());
            }
            return stub.exitStatus();
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
