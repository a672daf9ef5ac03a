package dev.kemu.gdb;

import dev.kemu.boot.KernelBoot;
import dev.kemu.machine.Machine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The GDB remote protocol over one connection to a booted (or about to boot) kernel: registers in
 * one fixed x86-64 layout, memory through the current page tables, stepping, breakpoints and
 * watchpoints without patching the guest, Ctrl-C, and kemu's monitor commands. Every packet gets
 * an answer; a malformed one an error reply ({@code E01}), an unknown one the empty reply.
 * Threads are CPUs ({@link CpuThreads}): registers and memory are the selected thread's CPU's (its
 * CR3), and a stop reply names the CPU that stopped.
 */
public final class GdbStub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GdbStub.class);
    private static final String SUPPORTED = "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;"
            + "vContSupported+;QStartNoAckMode+;ReverseStep+;ReverseContinue+";

    private final KernelBoot boot;
    private final Machine machine;
    private final CpuThreads threads;
    /** The CPU (0-based) gdb reads registers and memory of ({@code Hg}), and the one {@code s} steps ({@code Hc}). */
    private int generalCpu;
    private int stepCpu = CpuThreads.ANY;
    private final TargetDescription target = new TargetDescription();
    private final RunControl control;
    private final MonitorCommands monitor;
    private final java.util.Optional<Machine.Subscription> kernelMode;
    private StopEvent lastStop = StopEvent.signal(StopEvent.SIGTRAP, "");
    /** Every register of the layout, read with one native call for the {@code g} packet. */
    private final AllRegisters allRegisters;
    private final StoppedMemory memory = new StoppedMemory();
    private final ExpeditedRegisters expedited = new ExpeditedRegisters(target);

    /** Ready to debug {@code boot} from {@code firstInstruction}; the guest does not run until gdb says so. */
    public GdbStub(KernelBoot boot, long firstInstruction) {
        this.boot = boot;
        this.machine = boot.machine();
        this.control = new RunControl(boot.cpus(), boot.faults(), firstInstruction);
        this.threads = new CpuThreads(boot.cpus());
        this.monitor = new MonitorCommands(boot, control);
        this.allRegisters = new AllRegisters(target.registers(), boot.cpus());
        this.kernelMode = boot.symbols().find("kmain").map(kmain -> machine.onInstructionAt(kmain.address(),
                machine::rememberKernelMode));
    }

    /** Ends the session's hold on the machine: hooks, checkpoints and snapshots go. */
    @Override
    public void close() {
        kernelMode.ifPresent(Machine.Subscription::close);
        monitor.close();
        control.close();
    }

    /** Runs the guest until it first reaches {@code address} (for {@code --gdb-wait=SYMBOL}). */
    void runTo(long address) {
        boolean existing = control.hasBreakpoint(address);
        control.insertBreakpoint(address);
        lastStop = control.resume();
        if (!existing) {
            control.removeBreakpoint(address);
        }
    }

    /** The guest's exit status (QEMU's isa-debug-exit rule), once it wrote the exit port. */
    Optional<Integer> exitStatus() {
        return lastStop.exited() ? Optional.of(lastStop.exitStatus()) : Optional.empty();
    }

    /** Serves one debugger until it detaches, kills the session or disconnects. */
    public void serve(InputStream in, OutputStream out) throws IOException {
        try (RspChannel channel = new RspChannel(in, out)) {
            control.pollInterruptsWith(channel::interruptWaiting);
            while (true) {
                RspChannel.Incoming incoming = channel.next();
                if (incoming instanceof RspChannel.Closed closed) {
                    log.debug("gdb session ended: {}", closed.why());
                    return;
                }
                if (incoming instanceof RspChannel.Packet packet && !answer(channel, packet)) {
                    return;
                }
            }
        }
    }

    /** Answers one packet; false when the session ends. */
    private boolean answer(RspChannel channel, RspChannel.Packet packet) throws IOException {
        String text = packet.text();
        if (!onlyReads(text)) {
            memory.forget();
        }
        try {
            if (text.startsWith("X")) {
                channel.send(edited(writeBinary(packet.payload())));
                return true;
            }
            if (text.equals("k") || text.startsWith("vKill")) {
                if (text.startsWith("vKill")) {
                    channel.send("OK");
                }
                return false;
            }
            if (text.startsWith("D")) {
                channel.send("OK");
                return false;
            }
            if (text.equals("QStartNoAckMode")) {
                channel.send("OK");
                channel.stopAcknowledging();
                return true;
            }
            Optional<StopEvent> stop;
            try {
                stop = execution(text);
            } catch (IllegalArgumentException refused) { // e.g. reverse execution on several CPUs: say why
                channel.send("O" + RspPackets.hex("kemu: " + refused.getMessage() + "\n"));
                channel.send("E03");
                return true;
            }
            if (stop.isPresent()) {
                reportStop(channel, stop.get());
                return true;
            }
            if (text.startsWith("qRcmd,")) {
                String output = monitor.run(new String(RspPackets.unhex(text.substring(6)), StandardCharsets.UTF_8));
                if (!output.isEmpty()) {
                    channel.send("O" + RspPackets.hex(output));
                }
                channel.send("OK");
                return true;
            }
            channel.send(reply(text));
        } catch (MalformedPacketException e) {
            log.debug("malformed packet '{}': {}", text, e.getMessage());
            channel.send("E01");
        } catch (RuntimeException e) {
            // A bug or a native failure must not kill the session: gdb shows the error, the user can go on.
            log.warn("packet '{}' failed", text, e);
            channel.send("E02");
        }
        return true;
    }

    /** Packets that change nothing: memory translations stay valid across them ({@link StoppedMemory}). */
    private static boolean onlyReads(String text) {
        return text.startsWith("m") || text.equals("g") || text.startsWith("p") || text.equals("qfThreadInfo")
                || text.equals("qsThreadInfo");
    }

    /** The selected thread's CPU: registers and memory (through its own page tables) are its. */
    private Machine selected() {
        return boot.cpus().machine(generalCpu);
    }

    private void reportStop(RspChannel channel, StopEvent stop) throws IOException {
        lastStop = stop;
        generalCpu = control.stoppedCpu(); // gdb switches to the thread of the stop reply
        if (!stop.note().isEmpty()) {
            channel.send("O" + RspPackets.hex("kemu: " + stop.note() + "\n"));
        }
        int cpu = control.stoppedCpu();
        channel.send(stop.reply(CpuThreads.threadOf(cpu), stop.exited() ? "" : expedited.of(boot.cpus().machine(cpu))));
    }

    /** The packets that run the guest: {@code s c vCont;...}; empty for every other packet. */
    private Optional<StopEvent> execution(String text) {
        if (text.equals("bs")) {
            return Optional.of(control.reverseStep());
        }
        if (text.equals("bc")) {
            return Optional.of(control.reverseContinue());
        }
        if (text.startsWith("vCont;")) {
            return Optional.of(vCont(text.substring(6)));
        }
        if (text.startsWith("s") || text.startsWith("S")) {
            return Optional.of(control.step(stepCpu == CpuThreads.ANY ? generalCpu : stepCpu));
        }
        if (text.equals("c") || text.startsWith("c") && text.length() > 1 && Character.digit(text.charAt(1), 16) >= 0
                || text.startsWith("C")) {
            return Optional.of(control.resume());
        }
        return Optional.empty();
    }

    /**
     * {@code vCont;ACTION[:THREAD];...}: all-stop, so a step of one thread (gdb sends {@code s:2;c}) runs
     * that CPU alone for one instruction; otherwise every CPU continues.
     */
    private StopEvent vCont(String actions) {
        if (actions.isEmpty()) {
            throw new MalformedPacketException("vCont without an action");
        }
        Character kind = null;
        for (String action : actions.split(";")) {
            if (action.isEmpty()) {
                throw new MalformedPacketException("vCont with an empty action");
            }
            char verb = Character.toLowerCase(action.charAt(0));
            if (verb != 's' && verb != 'c' && verb != 't') {
                throw new MalformedPacketException("vCont action '" + action + "' is not supported");
            }
            int colon = action.indexOf(':');
            int cpu = colon < 0 ? CpuThreads.ANY : threads.cpuOf(action.substring(colon + 1));
            if (verb == 's') {
                return control.step(cpu == CpuThreads.ANY ? generalCpu : cpu);
            }
            kind = kind == null ? verb : kind;
        }
        return kind == 'c' ? control.resume() : StopEvent.signal(0, "");
    }

    private String reply(String text) {
        if (text.isEmpty()) {
            return "";
        }
        if (text.equals("?")) {
            return lastStop.reply(CpuThreads.threadOf(control.stoppedCpu()));
        }
        if (text.startsWith("qSupported")) {
            return SUPPORTED;
        }
        if (text.startsWith("qXfer:features:read:")) {
            return features(text.substring("qXfer:features:read:".length()));
        }
        return switch (text.charAt(0)) {
            case 'g' -> readRegisters();
            case 'G' -> edited(writeRegisters(text.substring(1)));
            case 'p' -> readRegister(text.substring(1));
            case 'P' -> edited(writeRegister(text.substring(1)));
            case 'm' -> readMemory(text.substring(1));
            case 'M' -> edited(writeMemory(text.substring(1)));
            case 'Z', 'z' -> breakpoint(text.charAt(0) == 'Z', text.substring(1));
            case 'H' -> selectThread(text);
            case 'T' -> { threads.cpuOf(text.substring(1)); yield "OK"; } // alive: every CPU exists for the whole session
            case 'q' -> query(text);
            case 'v' -> text.equals("vCont?") ? "vCont;c;C;s;S" : "";
            default -> "";
        };
    }

    /** After a successful write by the debugger, the recorded history no longer leads here. */
    private String edited(String reply) {
        if (reply.equals("OK")) {
            control.guestEdited();
        }
        return reply;
    }

    /** {@code Hg THREAD} (registers and memory) or {@code Hc THREAD} (what {@code s} steps). */
    private String selectThread(String text) {
        if (text.length() < 3 || text.charAt(1) != 'g' && text.charAt(1) != 'c') {
            throw new MalformedPacketException("H packet '" + text + "': expected Hg or Hc and a thread id");
        }
        int cpu = threads.cpuOf(text.substring(2));
        if (text.charAt(1) == 'g') {
            generalCpu = cpu == CpuThreads.ANY ? generalCpu : cpu;
        } else {
            stepCpu = cpu;
        }
        return "OK";
    }

    private String query(String text) {
        if (text.equals("qAttached")) {
            return "1";
        }
        if (text.equals("qC")) {
            return "QC" + Integer.toHexString(CpuThreads.threadOf(control.stoppedCpu()));
        }
        if (text.equals("qfThreadInfo")) {
            return threads.list();
        }
        if (text.equals("qsThreadInfo")) {
            return "l";
        }
        if (text.startsWith("qThreadExtraInfo,")) {
            int cpu = threads.cpuOf(text.substring("qThreadExtraInfo,".length()));
            return RspPackets.hex(threads.extraInfo(cpu == CpuThreads.ANY ? generalCpu : cpu));
        }
        if (text.startsWith("qSymbol")) {
            return "OK";
        }
        return "";
    }

    private String features(String request) {
        String[] parts = request.split(":");
        if (parts.length != 2 || !parts[0].equals("target.xml")) {
            return "E00"; // only target.xml exists
        }
        String[] range = parts[1].split(",");
        if (range.length != 2) {
            throw new MalformedPacketException("qXfer range '" + parts[1] + "': expected OFFSET,LENGTH");
        }
        String xml = target.xml();
        long requestedOffset = RspPackets.number(range[0]), requestedLength = RspPackets.number(range[1]);
        if (requestedOffset < 0 || requestedLength < 0) {
            throw new MalformedPacketException("qXfer range '" + parts[1] + "' is out of range");
        }
        int offset = (int) Math.min(requestedOffset, xml.length());
        int length = (int) Math.min(requestedLength, xml.length() - offset);
        return (offset + length >= xml.length() ? "l" : "m") + xml.substring(offset, offset + length);
    }

    private String readRegisters() {
        return allRegisters.read(generalCpu);
    }

    private String writeRegisters(String hex) {
        Machine machine = selected();
        byte[] bytes = RspPackets.unhex(hex);
        int at = 0;
        for (GdbRegister register : target.registers()) {
            if (at + register.bytes() > bytes.length) {
                break; // gdb may send fewer registers than it read
            }
            register.write(machine, Arrays.copyOfRange(bytes, at, at + register.bytes()));
            at += register.bytes();
        }
        return "OK";
    }

    private String readRegister(String number) {
        return target.register((int) RspPackets.number(number)).map(r -> r.read(selected())).orElse("E45");
    }

    private String writeRegister(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq < 0) {
            throw new MalformedPacketException("P packet without '=': 'P" + assignment + "'");
        }
        Optional<GdbRegister> register = target.register((int) RspPackets.number(assignment.substring(0, eq)));
        if (register.isEmpty()) {
            return "E45";
        }
        register.get().write(selected(), RspPackets.unhex(assignment.substring(eq + 1)));
        return "OK";
    }

    private String readMemory(String request) {
        long[] range = addressAndLength(request);
        byte[] bytes = memory.read(selected(), range[0], (int) Math.min(range[1], 0x10000));
        return bytes.length == 0 && range[1] > 0 ? "E14" : RspPackets.hex(bytes);
    }

    private String writeMemory(String request) {
        int colon = request.indexOf(':');
        if (colon < 0) {
            throw new MalformedPacketException("M packet without ':' before the data");
        }
        long[] range = addressAndLength(request.substring(0, colon));
        byte[] data = RspPackets.unhex(request.substring(colon + 1));
        if (data.length != range[1]) {
            throw new MalformedPacketException("M packet announces " + range[1] + " bytes and carries " + data.length);
        }
        return GuestMemoryWriter.write(selected(), range[0], data) ? "OK" : "E14";
    }

    private String writeBinary(byte[] payload) {
        int colon = indexOf(payload, (byte) ':');
        if (colon < 0) {
            throw new MalformedPacketException("X packet without ':' before the data");
        }
        long[] range = addressAndLength(new String(payload, 1, colon - 1, StandardCharsets.ISO_8859_1));
        byte[] data = RspPackets.unescape(payload, colon + 1, payload.length);
        if (data.length != range[1]) {
            throw new MalformedPacketException("X packet announces " + range[1] + " bytes and carries " + data.length);
        }
        return data.length == 0 || GuestMemoryWriter.write(selected(), range[0], data) ? "OK" : "E14";
    }

    private String breakpoint(boolean insert, String request) {
        List<String> fields = fields(request, 3);
        if (fields.size() < 3) {
            throw new MalformedPacketException("breakpoint packet 'Z" + request + "': expected TYPE,ADDR,KIND");
        }
        int type = (int) RspPackets.number(fields.get(0));
        long address = RspPackets.number(fields.get(1));
        int length = (int) RspPackets.number(fields.get(2));
        switch (type) {
            case 0, 1 -> {
                if (insert) {
                    control.insertBreakpoint(address, type == 1);
                } else {
                    control.removeBreakpoint(address);
                }
            }
            case 2, 3, 4 -> {
                if (length <= 0 || length > 4096) {
                    throw new MalformedPacketException("watchpoint length " + length + ": must be 1..4096 bytes");
                }
                Watchpoint watchpoint = new Watchpoint(Watchpoint.Kind.ofPacketType(type), address, length);
                if (insert) {
                    control.insertWatchpoint(watchpoint);
                } else {
                    control.removeWatchpoint(watchpoint);
                }
            }
            default -> {
                return "";
            }
        }
        return "OK";
    }

    /**
     * The first {@code wanted} fields of {@code text}, which ',' or ';' separate (fewer if it has fewer). Not
     * String.split with a regular expression: gdb inserts and removes a breakpoint at each stop.
     */
    private static List<String> fields(String text, int wanted) {
        List<String> fields = new java.util.ArrayList<>(wanted);
        int start = 0;
        for (int i = 0; i <= text.length() && fields.size() < wanted; i++) {
            if (i == text.length() || text.charAt(i) == ',' || text.charAt(i) == ';') {
                fields.add(text.substring(start, i));
                start = i + 1;
            }
        }
        return fields;
    }

    private static long[] addressAndLength(String text) {
        int comma = text.indexOf(',');
        if (comma < 0) {
            throw new MalformedPacketException("expected ADDR,LENGTH, got '" + text + "'");
        }
        long length = RspPackets.number(text.substring(comma + 1));
        if (length < 0 || length > (1 << 20)) {
            throw new MalformedPacketException("length " + length + " out of range");
        }
        return new long[] {RspPackets.number(text.substring(0, comma)), length};
    }

    private static int indexOf(byte[] bytes, byte wanted) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }
}
