package dev.kemu.machine;

import dev.kemu.nativelib.AnonymousMemory;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.RegisterBatch;
import dev.kemu.unicorn.UcError;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * An x86-64 machine: a Unicorn engine, guest RAM at physical 0 that Java owns and reads
 * directly, port devices, and a handler for CPU exceptions. One thread at a time.
 */
public final class Machine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Machine.class);
    private static final int[] STATE_REGISTERS = {X86Reg.RIP, X86Reg.RFLAGS, X86Reg.CR0, X86Reg.CR2, X86Reg.CR3,
            X86Reg.CR4, X86Reg.CS, X86Reg.SS};

    /** Handles a CPU exception; returns false to leave it unhandled, which stops the run. */
    @FunctionalInterface
    public interface ExceptionHandler {
        boolean onException(Machine machine, int vector);
    }

    private final AnonymousMemory hostMemory;
    private final GuestRam ram;
    private final Unicorn engine;
    private final PageWalker walker;
    private final PortDevice[] ports = new PortDevice[0x10000];
    private final RegisterBatch stateBatch;
    private final RegisterBatch gprBatch;
    private final long[] stateValues = new long[STATE_REGISTERS.length];
    private ExceptionHandler exceptionHandler = (machine, vector) -> false;
    private NativeOutHook nativeOut;
    private HypercallHandler hypercalls;
    private final long[] hypercallArgs = new long[6];
    private dev.kemu.unicorn.Context exceptionScratch;
    private dev.kemu.unicorn.Context kernelMode;
    private DirtyPages dirtyPages;
    /** Kept across counted runs: adding or removing a code hook makes Unicorn drop all translated code. */
    private HookHandle counter;

    // Per-run state, written by hooks.
    private long instructions;
    private long budget;
    private StopReason stopReason;
    private int exitCode;
    private int vector = -1;
    private String stopDetail = "";

    public Machine(long ramBytes) {
        if (ramBytes <= 0 || (ramBytes & 0xfff) != 0) {
            throw new IllegalArgumentException("guest RAM size must be a positive multiple of 4 KiB, got " + ramBytes);
        }
        this.hostMemory = new AnonymousMemory(ramBytes);
        this.ram = new GuestRam(hostMemory.segment());
        this.engine = Unicorn.openX86_64();
        try {
            engine.memMapPtr(0, hostMemory.segment(), Prot.ALL);
            nativeOut = NativeOutHook.install(engine, new OutReceiver());
            if (nativeOut == null) {
                engine.hookPortOut(this::onOut);
            }
            engine.hookPortIn(this::onIn);
            engine.hookInterrupt(this::onInterrupt);
        } catch (RuntimeException e) {
            engine.close();
            hostMemory.close();
            throw e;
        }
        this.walker = new PageWalker(ram);
        this.stateBatch = engine.batch(STATE_REGISTERS);
        this.gprBatch = engine.batch(X86Reg.GPRS);
    }

    public GuestRam ram() {
        return ram;
    }

    /** The engine itself, for the machine layer and for tests of the binding; upper layers use the methods below. */
    public Unicorn engine() {
        return engine;
    }

    /** A handle on something registered with the machine; closing it unregisters it. */
    @FunctionalInterface
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /** Called with the start address and size of each basic block before it runs. */
    @FunctionalInterface
    public interface BlockListener {
        void onBlock(long address, int size);
    }

    public long register(int id) {
        return engine.regRead(id);
    }

    public void setRegister(int id, long value) {
        engine.regWrite(id, value);
    }

    /** A reusable block of registers read or written with one native call (no allocation per call). */
    public RegisterBlock registers(int... ids) {
        return new RegisterBlock(engine.batch(ids));
    }

    /** Drops cached translations after the host edited page tables. */
    public void flushTlb() {
        engine.flushTlb();
    }

    /** Runs {@code action} each time execution reaches {@code address} (a one-address code hook). */
    public Subscription onInstructionAt(long address, Runnable action) {
        HookHandle hook = engine.hookCode(address, address, (uc, at, size) -> action.run());
        return hook::remove;
    }

    /** Calls {@code listener} before every basic block (one upcall per block). */
    public Subscription onBlock(BlockListener listener) {
        HookHandle hook = engine.hookBlock(1, 0, (uc, address, size) -> listener.onBlock(address, size));
        return hook::remove;
    }

    /** The emulator library's version, e.g. "2.1.4", and where it was loaded from. */
    public static String engineVersion() {
        return Unicorn.libraryVersion() + " from " + Unicorn.librarySource();
    }

    public PageWalker pageWalker() {
        return walker;
    }

    /** Puts {@code device} behind {@code port}, replacing what was there. */
    public void attach(int port, PortDevice device) {
        ports[port & 0xffff] = device;
    }

    /**
     * Serves the hypercall ABI on {@code port} with {@code handler}: with the native trampoline
     * (native/kemu_hooks.c) the registers move in C around one upcall, otherwise in Java.
     */
    public void attachHypercalls(int port, HypercallHandler handler) {
        hypercalls = handler;
        if (nativeOut != null) {
            nativeOut.setHypercallPort(port);
        } else {
            attach(port, new JavaHypercallDevice(handler));
        }
    }

    /** The two upcalls of the native out hook; failures stop the run instead of escaping into C. */
    private final class OutReceiver implements NativeOutHook.Receiver {
        @Override
        public long hypercall(int number, long a0, long a1, long a2, long a3, long a4, long a5) {
            try {
                long[] args = hypercallArgs;
                args[0] = a0;
                args[1] = a1;
                args[2] = a2;
                args[3] = a3;
                args[4] = a4;
                args[5] = a5;
                return hypercalls.call(Machine.this, number, args);
            } catch (Throwable t) {
                engine.hookFailed(t);
                return 0;
            }
        }

        @Override
        public void otherPort(int port, int size, int value) {
            try {
                onOut(engine, port, size, value);
            } catch (Throwable t) {
                engine.hookFailed(t);
            }
        }
    }

    public void setExceptionHandler(ExceptionHandler handler) {
        this.exceptionHandler = handler;
    }

    /** Reads the CPU state (two batched native calls and one MSR read). */
    public CpuState cpu() {
        stateBatch.read(stateValues);
        long[] gprs = new long[X86Reg.GPRS.length];
        gprBatch.read(gprs);
        return new CpuState(stateValues[0], stateValues[1], stateValues[2], stateValues[3], stateValues[4],
                stateValues[5], engine.readMsr(X86Reg.MSR_EFER), (int) stateValues[6], (int) stateValues[7],
                table(X86Reg.GDTR), table(X86Reg.IDTR), gprs);
    }

    private DescriptorTable table(int register) {
        dev.kemu.unicorn.Mmr mmr = engine.readMmr(register);
        return new DescriptorTable(mmr.base(), mmr.limit());
    }

    /**
     * The hardware error code of the exception being handled; valid inside an
     * {@link ExceptionHandler} (read from the saved CPU context, see {@link ExceptionState}).
     */
    public int exceptionErrorCode() {
        dev.kemu.unicorn.Context scratch = scratchContext();
        engine.contextSave(scratch);
        return ExceptionState.get().errorCode(scratch);
    }

    /**
     * Ends the exception being handled so that the next one is not escalated to #DF (Unicorn
     * issue 1883). Every handler that resumes the guest must call this.
     */
    public void finishException() {
        ExceptionState.get().finishException(engine, scratchContext());
    }

    /**
     * Remembers the CPU's current privilege state (call it while the guest runs in 64-bit kernel
     * mode, e.g. at kmain) so that faults taken in ring 3 can later be delivered to a kernel handler.
     */
    public void rememberKernelMode() {
        if (kernelMode == null) {
            kernelMode = engine.contextSave();
        }
    }

    /** Switches the CPU to the remembered kernel mode (CS cache, CPL 0, null SS); false if none is remembered. */
    boolean enterKernelMode() {
        if (kernelMode == null) {
            return false;
        }
        PrivilegeState.get().enterKernelMode(engine, scratchContext(), kernelMode);
        return true;
    }

    /** The code selector of the remembered kernel mode, or -1. */
    int kernelCodeSelector() {
        return kernelMode == null ? -1 : PrivilegeState.get().codeSelector(kernelMode);
    }

    private dev.kemu.unicorn.Context scratchContext() {
        if (exceptionScratch == null) {
            exceptionScratch = engine.contextSave();
        }
        return exceptionScratch;
    }

    /**
     * Tracks every page written from now on: guest stores through a write hook, host writes
     * through {@link GuestRam}; see {@link DirtyPages} for when the set is incomplete. Used by {@link Snapshot}.
     */
    public DirtyPages dirtyPages() {
        if (dirtyPages == null) {
            dirtyPages = new DirtyPages(ram.size());
            ram.trackWrites(dirtyPages);
            engine.hookMem(dev.kemu.unicorn.HookType.MEM_WRITE, 1, 0, this::onGuestWrite);
        }
        return dirtyPages;
    }

    /** The pages of guest RAM ever touched by anyone; the others are unbacked and read as zero. */
    java.util.BitSet residentPages() {
        return hostMemory.residentPages();
    }

    /** libunicorn 2.1.4 passes the physical address here on every path (see WriteHookAddressTest). */
    private void onGuestWrite(Unicorn uc, int type, long physical, int size, long value) {
        dirtyPages.markGuestStore(physical, size);
    }

    /** Instructions executed so far in the current (or last) counted run. */
    public long instructionCount() {
        return instructions;
    }

    /** Ends the current run after the current instruction; callable from any hook or device. */
    public void requestStop(StopReason reason, int code, String detail) {
        if (stopReason == null) {
            stopReason = reason;
            exitCode = code;
            stopDetail = detail;
        }
        engine.stop();
    }

    /** Drops translated code for guest-virtual {@code [begin, end)} after the host rewrote it. */
    public void codeChanged(long begin, long end) {
        engine.removeTranslationCache(begin, end);
    }

    /**
     * The physical address behind guest-virtual {@code address} with the current paging mode
     * (identity while paging is off), or -1 when it is not mapped or outside RAM.
     */
    public long physical(long address) {
        long physical = address;
        if ((engine.regRead(X86Reg.CR0) & CpuState.CR0_PG) != 0) {
            physical = walker.translate(engine.regRead(X86Reg.CR3), address);
        }
        return physical >= 0 && ram.contains(physical, 1) ? physical : -1;
    }

    /** Up to {@code length} bytes at guest-virtual {@code address}, fewer if an unmapped page ends them. */
    public byte[] readVirtual(long address, int length) {
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < length) {
            long physical = physical(address + done);
            if (physical < 0) {
                return java.util.Arrays.copyOf(bytes, done);
            }
            // One translation per page, not per byte.
            int chunk = (int) Math.min(length - done, Math.min(4096 - (physical & 0xfff), ram.size() - physical));
            System.arraycopy(ram.read(physical, chunk), 0, bytes, done, chunk);
            done += chunk;
        }
        return bytes;
    }

    /** The 8 bytes at guest-virtual {@code address}, or empty when any of them is not mapped. */
    public java.util.OptionalLong readVirtual64(long address) {
        byte[] bytes = readVirtual(address, 8);
        return bytes.length < 8 ? java.util.OptionalLong.empty()
                : java.util.OptionalLong.of(java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }

    /** Writes 8 bytes at guest-virtual {@code address} if the page tables allow a write there; false otherwise. */
    public boolean writeVirtual64(long address, long value) {
        long physical = address;
        if ((engine.regRead(X86Reg.CR0) & CpuState.CR0_PG) != 0) {
            PageWalk walk = walker.walk(engine.regRead(X86Reg.CR3), VirtAddr.of(address));
            if (!walk.writable() || (address & 0xfff) > 0xff8) {
                return false; // unmapped, read-only, or split over two pages (not needed by its callers)
            }
            physical = walk.physical().get().value();
        }
        if (!ram.contains(physical, 8)) {
            return false;
        }
        ram.write64(physical, value);
        return true;
    }

    /** Runs the guest from {@code startRip} until it stops; see {@link RunResult}. */
    public RunResult run(long startRip, RunLimits limits) {
        return run(startRip, 0, limits);
    }

    /** Runs from {@code startRip} until RIP reaches {@code endRip} (0 = no end address) or the guest stops. */
    public RunResult run(long startRip, long endRip, RunLimits limits) {
        instructions = 0;
        budget = limits.instructionBudget();
        stopReason = null;
        exitCode = 0;
        vector = -1;
        stopDetail = "";
        if (budget > 0 && counter == null) {
            counter = engine.hookCode(1, 0, this::countInstruction);
        } else if (budget == 0 && counter != null) {
            counter.remove();
            counter = null;
        }
        // Unicorn re-translates code whenever uc_emu_start gets an end address (~3.4 us a run, against
        // ~0.1 us to stop on a hlt). If a hlt sits at the end address, run without one and stop there.
        boolean haltAtEnd = endRip != 0 && hltAt(endRip);
        long started = System.nanoTime();
        try {
            engine.start(startRip, haltAtEnd ? 0 : endRip, limits.timeout().toNanos() / 1000, 0);
        } catch (UnicornException e) {
            if (e.error() == UcError.UNKNOWN) {
                throw e;
            }
            if (stopReason == null && e.error() == UcError.INSN_INVALID) {
                // Unicorn reports an undefined opcode as an error, not through the interrupt hook.
                vector = ExceptionVector.UD;
                stopReason = StopReason.UNHANDLED_EXCEPTION;
                stopDetail = ExceptionVector.describe(vector) + " at RIP 0x" + Long.toHexString(engine.regRead(X86Reg.RIP));
            } else if (stopReason == null) {
                stopReason = e.error() == UcError.EXCEPTION ? StopReason.UNHANDLED_EXCEPTION : StopReason.EMULATION_ERROR;
                stopDetail = e.getMessage();
            }
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        if (haltAtEnd && stopReason == null && engine.regRead(X86Reg.RIP) == endRip + 1) {
            engine.regWrite(X86Reg.RIP, endRip); // as if stopped before the hlt, like an end address
            instructions = Math.max(0, instructions - 1);
        }
        CpuState cpu = cpu();
        if (stopReason == null && endRip != 0 && cpu.rip() == endRip) {
            stopReason = StopReason.REACHED_END;
            stopDetail = String.format("reached 0x%x", endRip);
        } else if (stopReason == null) {
            classifyQuietStop(cpu, limits, wall);
        }
        log.debug("run stopped: {} after {} instructions: {}", stopReason, budget > 0 ? instructions : "uncounted",
                stopDetail);
        return new RunResult(stopReason, cpu, budget > 0 ? instructions : -1, exitCode, vector, wall, stopDetail);
    }

    private void classifyQuietStop(CpuState cpu, RunLimits limits, Duration wall) {
        if (!limits.timeout().isZero() && wall.compareTo(limits.timeout()) >= 0) {
            stopReason = StopReason.TIMEOUT;
            stopDetail = "wall-clock limit of " + limits.timeout().toMillis() + " ms reached";
        } else if (hltAt(cpu.rip() - 1)) {
            stopReason = StopReason.HALTED;
            stopDetail = String.format("hlt at 0x%x", cpu.rip() - 1);
        } else {
            stopReason = StopReason.HOST_REQUEST;
            stopDetail = "emulation stopped";
        }
    }

    private boolean hltAt(long address) {
        long physical = physical(address);
        return physical >= 0 && ram.read8(physical) == 0xF4;
    }

    private void countInstruction(Unicorn uc, long address, int size) {
        if (budget > 0 && ++instructions >= budget) {
            // Unicorn's hook fires before the instruction: stopping here ends the run with
            // exactly `budget` instructions counted.
            requestStop(StopReason.BUDGET_EXHAUSTED, 0, String.format(
                    "instruction budget of %d exhausted at RIP 0x%x (runaway guest?)", budget, address));
        }
    }

    private void onOut(Unicorn uc, int port, int size, int value) {
        PortDevice device = ports[port & 0xffff];
        if (device != null) {
            device.write(this, port, size, value);
        } else if (log.isTraceEnabled()) {
            log.trace("out to unclaimed port 0x{}: 0x{}", Integer.toHexString(port), Integer.toHexString(value));
        }
    }

    private int onIn(Unicorn uc, int port, int size) {
        PortDevice device = ports[port & 0xffff];
        return device != null ? device.read(this, port, size) : -1;
    }

    private void onInterrupt(Unicorn uc, int number) {
        if (exceptionHandler.onException(this, number)) {
            return;
        }
        vector = number;
        requestStop(StopReason.UNHANDLED_EXCEPTION, 0, String.format("%s at RIP 0x%x",
                ExceptionVector.describe(number), uc.regRead(X86Reg.RIP)));
    }

    @Override
    public void close() {
        engine.close(); // first: no hook may run once what it uses is freed
        if (nativeOut != null) {
            nativeOut.close();
        }
        if (exceptionScratch != null) {
            exceptionScratch.close();
        }
        if (kernelMode != null) {
            kernelMode.close();
        }
        hostMemory.close();
    }
}
