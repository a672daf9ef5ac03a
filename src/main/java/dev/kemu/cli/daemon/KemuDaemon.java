package dev.kemu.cli.daemon;

import dev.kemu.cli.KemuCli;
import dev.kemu.nativelib.ProcessDirectory;
import jdk.net.ExtendedSocketOptions;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * kemu's resident daemon ({@code ./kemu daemon start}, docs/startup.md): one JVM that has linked libunicorn and
 * compiled the boot path, serving {@code ./kemu boot} requests from native/kemu_client.c on a Unix socket of its
 * tree, one at a time, through {@link KemuCli#run} with the client's stdout, stderr and directory. Requests it
 * cannot serve faithfully ({@link ServePolicy}), arriving while it is busy, or after its jar changed, go back
 * to the client, which runs the plain launcher.
 *
 * <p>Arguments: the socket path. The launcher starts it in the tree's root with its own JVM flags.
 */
public final class KemuDaemon {
    /** Quiet boots at the start, so that the first request finds the boot path compiled (the tests take fewer). */
    private static final int WARM_UP_BOOTS = Integer.getInteger("kemu.daemon.warmUpBoots", 3);

    /** A daemon nobody used for this long exits, so a forgotten one does not hold memory for ever (the tests: 1). */
    private static final long IDLE_MINUTES = Long.getLong("kemu.daemon.idleMinutes", 60);
    /** How long a client may take to send its request (it sends it at once; only a stalled one takes longer). */
    private static final long REQUEST_SECONDS = 10;

    private final Path socket;
    private final Path jar;
    private final FileTime jarTime;
    private final Path home = Path.of("").toAbsolutePath();
    private final Instant started = Instant.now();
    private final Map<String, String> environment = new TreeMap<>();
    private final PrintStream daemonOut = System.out, daemonErr = System.err;
    private final Charset stdoutCharset = charset("stdout.encoding"), stderrCharset = charset("stderr.encoding");
    /** The thread that runs boots; named as a plain JVM's, since log lines carry the thread's name. */
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "main"));
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile int served;
    private volatile long lastRequest = System.nanoTime();
    /** The socket file this daemon bound (its inode): a path another daemon re-bound is no longer this one's. */
    private volatile Object socketKey;
    /** Closes a connection whose request has not arrived in time, so that one stalled client cannot hold up others. */
    private final ScheduledExecutorService requestTimeouts = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "kemu-daemon-request-timeout");
        thread.setDaemon(true);
        return thread;
    });
    /** Why the last boot went back to the client, for {@code ./kemu daemon status}: the one place a user sees it. */
    private volatile String lastRefusal;

    private KemuDaemon(Path socket) throws IOException {
        this.socket = socket;
        // (the tests name a jar of their own, to make the daemon stale without touching the tree's)
        this.jar = Path.of(System.getProperty("kemu.daemon.jar",
                Path.of(System.getProperty("kemu.home", ".")).resolve("target/kemu-cli.jar").toString()));
        this.jarTime = Files.getLastModifiedTime(jar);
        System.getenv().forEach((name, value) -> {
            if (DaemonRequest.readByKemu(name)) {
                environment.put(name, value);
            }
        });
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: KemuDaemon SOCKET (started by ./kemu daemon start)");
            System.exit(2);
        }
        // as KemuCli.main: kemu's log defaults, the same for every request
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        new KemuDaemon(Path.of(args[0]).toAbsolutePath()).serve();
    }

    private void serve() throws Exception {
        warmUp();
        Files.deleteIfExists(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            socketKey = socketFileKey();
            Runtime.getRuntime().addShutdownHook(new Thread(this::removeSocket));
            daemonOut.println("kemu daemon: pid " + ProcessHandle.current().pid() + " serving " + socket);
            exitWhenIdle();
            while (true) {
                SocketChannel client = server.accept();
                if (!accept(client)) {
                    break;
                }
            }
        }
        runner.shutdown();
        runner.awaitTermination(1, TimeUnit.MINUTES);
        System.exit(0);
    }

    private void warmUp() throws Exception {
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        runner.submit(() -> {
            System.setOut(discard);
            System.setErr(discard);
            try {
                for (int i = 0; i < WARM_UP_BOOTS; i++) {
                    KemuCli.run("boot");
                }
            } finally {
                System.setOut(daemonOut);
                System.setErr(daemonErr);
            }
        }).get();
    }

    private void exitWhenIdle() {
        Thread idle = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(Math.min(TimeUnit.MINUTES.toMillis(IDLE_MINUTES), 10_000));
                } catch (InterruptedException e) {
                    return;
                }
                if (!ownsSocket()) { // make clean, or a new daemon took over the path: nobody can reach this one
                    daemonOut.println("kemu daemon: " + socket + " is gone; exiting");
                    Runtime.getRuntime().halt(0);
                }
                if (!busy.get() && System.nanoTime() - lastRequest > TimeUnit.MINUTES.toNanos(IDLE_MINUTES)) {
                    daemonOut.println("kemu daemon: no request for " + IDLE_MINUTES + " min; exiting");
                    System.exit(0); // the shutdown hook removes the socket
                }
            }
        }, "kemu-daemon-idle");
        idle.setDaemon(true);
        idle.start();
    }

    /** Handles one connection; false when it asked the daemon to stop. */
    private boolean accept(SocketChannel client) {
        lastRequest = System.nanoTime();
        boolean handedOver = false;
        try {
            if (!ownUser(client)) {
                return true;
            }
            ScheduledFuture<?> timeout = requestTimeouts.schedule(() -> close(client), REQUEST_SECONDS, TimeUnit.SECONDS);
            DaemonRequest request = DaemonRequest.read(Channels.newInputStream(client));
            timeout.cancel(false);
            Frames frames = new Frames(client);
            switch (request.kind()) {
                case "status" -> {
                    frames.text(Frames.STDOUT, status() + "\n");
                    frames.exit(0);
                }
                case "stop" -> {
                    frames.text(Frames.STDOUT, "kemu daemon: stopped (pid " + ProcessHandle.current().pid() + ")\n");
                    frames.exit(0);
                    return false;
                }
                case "run" -> {
                    Optional<String> refusal = refusal(request);
                    refusal.ifPresent(reason -> lastRefusal = String.join(" ", request.args()) + ": " + reason);
                    if (refusal.isEmpty()) {
                        handedOver = true;
                        runner.submit(() -> run(request, client, frames));
                    } else {
                        frames.text(Frames.FALLBACK, request.args().stream().anyMatch(a -> a.contains("-v"))
                                ? "kemu: not served by the resident daemon (pid " + ProcessHandle.current().pid()
                                  + "): " + refusal.get() + "; running a JVM of its own\n" : "");
                        if (stale()) {
                            daemonOut.println("kemu daemon: " + jar + " changed since the start; stopping");
                            return false;
                        }
                    }
                }
                default -> {
                    daemonErr.println("kemu daemon: unknown request '" + request.kind() + "'");
                    frames.text(Frames.FALLBACK, ""); // the client runs the command in a JVM of its own
                }
            }
            return true;
        } catch (IOException e) {
            daemonErr.println("kemu daemon: a request failed: " + e.getMessage());
            // a request this daemon could not read (too large, malformed): the client's own JVM runs it instead
            new Frames(client).text(Frames.FALLBACK, "");
            return true;
        } finally {
            if (!handedOver) {
                close(client);
            }
        }
    }

    private Optional<String> refusal(DaemonRequest request) {
        if (stale()) {
            return Optional.of("its build is stale (" + jar.getFileName() + " changed)");
        }
        Optional<String> policy = ServePolicy.refusal(request.args(), request.environment(), environment);
        if (policy.isPresent()) {
            return policy;
        }
        return busy.compareAndSet(false, true) ? Optional.empty() : Optional.of("it is busy with another boot");
    }

    /** One boot with the client's descriptors and directory; on the runner thread. */
    private void run(DaemonRequest request, SocketChannel client, Frames frames) {
        AtomicBoolean finished = new AtomicBoolean();
        watchForInterrupt(client, finished, request);
        PrintStream out = new PrintStream(new BufferedOutputStream(frames.stream(Frames.STDOUT), 8192), true, stdoutCharset);
        PrintStream err = new PrintStream(new BufferedOutputStream(frames.stream(Frames.STDERR), 8192), true, stderrCharset);
        int status;
        try {
            if (!ProcessDirectory.change(request.cwd())) {
                frames.text(Frames.FALLBACK, "");
                return;
            }
            System.setOut(out);
            System.setErr(err);
            try {
                status = KemuCli.run(request.args().toArray(String[]::new));
            } catch (Throwable e) { // as the JVM reports an exception that leaves main
                err.print("Exception in thread \"main\" ");
                e.printStackTrace(err);
                status = 1;
            }
            out.flush();
            err.flush();
            served++;
            finished.set(true);
            frames.exit(status);
        } finally {
            finished.set(true);
            System.setOut(daemonOut);
            System.setErr(daemonErr);
            ProcessDirectory.change(home);
            close(client);
            lastRequest = System.nanoTime();
            busy.set(false);
        }
    }

    /**
     * Ctrl-C in the client (or the client gone) before the boot ended: the daemon ends too, as a plain JVM would.
     * The run loop resumes a run stopped from outside, so a boot cannot be cut short and the daemon kept; ending it
     * is what leaves nothing wedged. The next {@code ./kemu boot} runs a JVM of its own.
     */
    private void watchForInterrupt(SocketChannel client, AtomicBoolean finished, DaemonRequest request) {
        Thread watcher = new Thread(() -> {
            try {
                client.read(ByteBuffer.allocate(1));
            } catch (IOException e) {
                // closed by the runner after the exit status: finished, below
            }
            if (!finished.get()) {
                daemonErr.println("kemu daemon: the client of " + request.args() + " was interrupted or went away "
                        + "during the boot; the daemon ends with it");
                removeSocket();
                Runtime.getRuntime().halt(130);
            }
        }, "kemu-daemon-client");
        watcher.setDaemon(true);
        watcher.start();
    }

    private boolean stale() {
        try {
            return !Files.getLastModifiedTime(jar).equals(jarTime);
        } catch (IOException e) {
            return true;
        }
    }

    private String status() {
        Duration up = Duration.between(started, Instant.now());
        return String.format("kemu daemon: pid %d, tree %s, up since %s (%d s), %d boot(s) served, java %s%s%s",
                ProcessHandle.current().pid(), home, started.truncatedTo(ChronoUnit.SECONDS), up.toSeconds(), served,
                Runtime.version(), lastRefusal == null ? "" : "\nkemu daemon: last sent back to a JVM of its own: "
                        + lastRefusal, stale() ? "\nkemu daemon: STALE: its jar changed, the next ./kemu boot stops it" : "");
    }

    private static boolean ownUser(SocketChannel client) throws IOException {
        String user = client.getOption(ExtendedSocketOptions.SO_PEERCRED).user().getName();
        return user.equals(System.getProperty("user.name"));
    }

    /** Whether the socket path is still the file this daemon bound. */
    private boolean ownsSocket() {
        Object key = socketFileKey();
        return key != null && key.equals(socketKey);
    }

    private Object socketFileKey() {
        try {
            return Files.readAttributes(socket, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private void removeSocket() {
        if (!ownsSocket()) {
            return; // another daemon's socket now: deleting it would cut that one off
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // a socket file left over is refused by the next client's connect and removed then
        }
    }

    private static void close(SocketChannel client) {
        try {
            client.close();
        } catch (IOException e) {
            // nothing left to tell that client
        }
    }

    private static Charset charset(String property) {
        String name = System.getProperty(property, System.getProperty("native.encoding"));
        try {
            return Charset.forName(name);
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }
}
