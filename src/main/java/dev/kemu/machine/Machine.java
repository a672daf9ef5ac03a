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
import java.util.OptionalInt;

/**
 * An x86-64 machine: a Unicorn engine, guest RAM at physical 0 that Java owns and reads
 * directly, port devices, and a handler for CPU exceptions. One thread at a time.
 */
public final class Machine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Machine.class);
    private static final int[] STATE_REGISTERS = {X86Reg.RIP, X86Reg.RFLAGS, X86Reg.CR0, X86Reg.CR2, X86Reg.CR3,
            X86Reg.CR4, X86Reg.CS, X86Reg.SS};

    /**
     * Handles every CPU exception, #UD included (which Unicorn reports as an invalid instruction, not
     * through its interrupt hook). {@link ExceptionOutcome#STOP} leaves it unhandled and stops the run.
     */
    @FunctionalInterface
    public interface ExceptionHandler {
        ExceptionOutcome onException(Machine machine, CpuException exception);
    }

    private final AnonymousMemory hostMemory;
    private final GuestRam ram;
    private final Unicorn engine;
    private final PageWalker walker;
    private final VirtualMemoryView virtualMemory;
    private final DeviceBus bus;
    private final RegisterBatch stateBatch;
    private final RegisterBatch gprBatch;
    private final long[] stateValues = new long[STATE_REGISTERS.length];
    private ExceptionHandler exceptionHandler = (machine, exception) -> ExceptionOutcome.STOP;
    /** RIP, CS and CR2 at an exception, read with one native call. */
    private RegisterBatch trapBatch;
    private final long[] trapValues = new long[3];
    private HookHandle invalidInstruction;
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
    /** Set when a handled #UD redirected RIP: Unicorn ends uc_emu_start after it, so run() starts again there. */
    private boolean resumeAfterTrap;

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
        this.bus = new DeviceBus(this, engine, ramBytes);
        this.walker = new PageWalker(ram);
        this.virtualMemory = new VirtualMemoryView(engine, ram, walker);
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

    /** The port devices of this machine. */
    public DeviceBus bus() {
        return bus;
    }

    /** Puts {@code device} behind the single port {@code port}; see {@link DeviceBus#claimPorts}. */
    public Subscription attach(int port, PortDevice device) {
        return bus.claimPorts(port, 1, device);
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

    /** Guest-virtual memory with the current paging mode; the methods below are its shorthands. */
    public VirtualMemoryView virtualMemory() {
        return virtualMemory;
    }

    /** See {@link VirtualMemoryView#physical}. */
    public long physical(long address) {
        return virtualMemory.physical(address);
    }

    /** See {@link VirtualMemoryView#read}. */
    public byte[] readVirtual(long address, int length) {
        return virtualMemory.read(address, length);
    }

    /** See {@link VirtualMemoryView#read64}. */
    public java.util.OptionalLong readVirtual64(long address) {
        return virtualMemory.read64(address);
    }

    /** See {@link VirtualMemoryView#write64}. */
    public boolean writeVirtual64(long address, long value) {
        return virtualMemory.write64(address, value);
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
        if (invalidInstruction == null) {
            // Unicorn ends uc_emu_start with UC_ERR_INSN_INVALID for ud2 and bad opcodes instead of calling the
            // interrupt hook; this hook turns them into a #UD for the exception handler like every other vector.
            invalidInstruction = engine.hookInvalidInstruction(this::onInvalidInstruction);
        }
        // Unicorn re-translates code whenever uc_emu_start gets an end address (~3.4 us a run, against
        // ~0.1 us to stop on a hlt). If a hlt sits at the end address, run without one and stop there.
        boolean haltAtEnd = endRip != 0 && hltAt(endRip);
        long started = System.nanoTime();
        UnicornException engineError = null;
        long rip = startRip;
        while (true) {
            resumeAfterTrap = false;
            try {
                engine.start(rip, haltAtEnd ? 0 : endRip, remainingMicros(limits, started), 0);
            } catch (UnicornException e) {
                if (e.error() == UcError.UNKNOWN) {
                    throw withPosition(e); // a hook failed (Unicorn.start wraps it): its exception is the cause
                }
                engineError = e;
            } catch (RuntimeException e) {
                throw withPosition(e); // a hook's own exception, rethrown by Unicorn.start as it was
            } catch (Error e) {
                throw withPosition(e);
            }
            if (!resumeAfterTrap || stopReason != null || engineError != null || outOfTime(limits, started)) {
                break;
            }
            rip = engine.regRead(X86Reg.RIP); // the guest's #UD handler
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        if (haltAtEnd && stopReason == null && engine.regRead(X86Reg.RIP) == endRip + 1) {
            engine.regWrite(X86Reg.RIP, endRip); // as if stopped before the hlt, like an end address
            instructions = Math.max(0, instructions - 1);
        }
        CpuState cpu = cpu();
        if (engineError != null) {
            recordEngineError(engineError);
        }
        if (stopReason == null && endRip != 0 && cpu.rip() == endRip) {
            stopReason = StopReason.REACHED_END;
            stopDetail = String.format("reached 0x%x", endRip);
        } else if (stopReason == null) {
            classifyQuietStop(cpu, limits, wall);
        }
        log.debug("run stopped: {} after {} instructions: {}", stopReason, budget > 0 ? instructions : "uncounted",
                stopDetail);
        return new RunResult(stopReason, cpu, budget > 0 ? instructions : -1, exitCode, vector, wall, stopDetail,
                java.util.Optional.<Throwable>ofNullable(engineError));
    }

    private <T extends Throwable> T withPosition(T failure) {
        try {
            failure.addSuppressed(new GuestPosition(engine.regRead(X86Reg.RIP), budget > 0 ? instructions : -1));
        } catch (RuntimeException unreadable) {
            failure.addSuppressed(unreadable);
        }
        return failure;
    }

    /** An error uc_emu_start itself returned (not a hook's): the stop reason, or an addition to an earlier one. */
    private void recordEngineError(UnicornException error) {
        if (stopReason == null) {
            stopReason = error.error() == UcError.EXCEPTION ? StopReason.UNHANDLED_EXCEPTION : StopReason.EMULATION_ERROR;
            stopDetail = error.getMessage();
        } else {
            stopDetail += "; then the engine failed: " + error.getMessage();
        }
    }

    private static long remainingMicros(RunLimits limits, long started) {
        if (limits.timeout().isZero()) {
            return 0; // no limit
        }
        return Math.max(1, (limits.timeout().toNanos() - (System.nanoTime() - started)) / 1000);
    }

    private static boolean outOfTime(RunLimits limits, long started) {
        return !limits.timeout().isZero() && System.nanoTime() - started >= limits.timeout().toNanos();
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
        bus.out(this, port, size, value);
    }

    private int onIn(Unicorn uc, int port, int size) {
        return bus.in(this, port, size);
    }

    private void onInterrupt(Unicorn uc, int number) {
        CpuException exception = capture(number);
        if (exceptionHandler.onException(this, exception) == ExceptionOutcome.STOP) {
            stopOn(exception);
        }
    }

    /** Unicorn ends the run after this hook whatever it returns; true keeps it from reporting UC_ERR_INSN_INVALID. */
    private boolean onInvalidInstruction(Unicorn uc) {
        CpuException exception = capture(ExceptionVector.UD);
        if (exceptionHandler.onException(this, exception) == ExceptionOutcome.RESUME) {
            resumeAfterTrap = true;
        } else {
            stopOn(exception);
        }
        return true;
    }

    /** The exception Unicorn reports now, as one value: error code and CR2 only where the CPU provides them. */
    private CpuException capture(int number) {
        if (trapBatch == null) {
            trapBatch = engine.batch(X86Reg.RIP, X86Reg.CS, X86Reg.CR2);
        }
        trapBatch.read(trapValues);
        OptionalInt errorCode = ExceptionVector.hasErrorCode(number) ? OptionalInt.of(exceptionErrorCode())
                : OptionalInt.empty();
        long cr2 = number == ExceptionVector.PF ? trapValues[2] : 0;
        return new CpuException(number, errorCode, cr2, trapValues[0], (int) trapValues[1] & 3, this);
    }

    private void stopOn(CpuException exception) {
        vector = exception.vector();
        requestStop(StopReason.UNHANDLED_EXCEPTION, 0, String.format("%s at RIP 0x%x",
                ExceptionVector.describe(exception.vector()), exception.rip()));
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
