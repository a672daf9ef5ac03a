package dev.kemu.gdb;

import dev.kemu.machine.Machine;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Before the stub announces its port, it answers the read-only packets gdb sends after every stop
 * ({@code g}, four {@code m}, the thread list) a few hundred times over a loopback connection of its own,
 * and forgets that session. kemu runs with C1 alone, which compiles a method after about 200 calls: without
 * this, a debugging session's first hundred stepi ran the stub interpreted and shared the two cores with
 * some 270 compilations. Nothing here runs the guest or writes to it; the replies are thrown away.
 */
final class StubWarmUp {
    private static final Logger log = LoggerFactory.getLogger(StubWarmUp.class);
    /** Stops' worth of packets: past the compiler's threshold for a method called once a stop. */
    static final int STOPS = 250;

    private StubWarmUp() {}

    static void run(GdbStub stub, Machine cpu) {
        byte[] requests = requests(cpu.register(X86Reg.RIP), cpu.register(X86Reg.RSP));
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
             Socket served = listener.accept()) {
            client.setTcpNoDelay(true);
            served.setTcpNoDelay(true);
            Thread debugger = Thread.ofPlatform().daemon().name("kemu-gdb-warm-up").start(() -> talk(client, requests));
            stub.serve(served.getInputStream(), served.getOutputStream());
            debugger.join();
        } catch (IOException e) {
            log.debug("the gdb stub's warm-up on a loopback connection failed; the stub starts cold", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The scripted debugger: sends every request, reads every reply, and detaches. */
    private static void talk(Socket client, byte[] requests) {
        try {
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the stub closed the connection: the warm-up is over
                }
            });
            out.write(requests);
            out.flush();
            reader.join();
        } catch (IOException | InterruptedException ignored) {
            // a failed warm-up only leaves the stub cold
        }
    }

    private static byte[] requests(long rip, long rsp) {
        StringBuilder all = new StringBuilder(new String(RspPackets.frame("QStartNoAckMode"), StandardCharsets.ISO_8859_1));
        String[] stop = {"g", "m" + Long.toHexString(rip) + ",1", "m" + Long.toHexString(rip) + ",1",
                "m" + Long.toHexString(rip & ~0x3fL) + ",40", "m" + Long.toHexString(rsp & ~0x3fL) + ",40",
                "qfThreadInfo", "qsThreadInfo"};
        for (int i = 0; i < STOPS; i++) {
            for (String packet : stop) {
                all.append(new String(RspPackets.frame(packet), StandardCharsets.ISO_8859_1));
            }
        }
        all.append(new String(RspPackets.frame("D"), StandardCharsets.ISO_8859_1));
        return all.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
