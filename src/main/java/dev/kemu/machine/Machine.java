package dev.kemu.machine;

import dev.kemu.machine.devices.IoApic;
import dev.kemu.machine.interrupts.ClockMode;
import dev.kemu.machine.interrupts.PcInterrupts;
import dev.kemu.nativelib.AnonymousMemory;
import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.HookType;
import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.RegisterBatch;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Insn;
import dev.kemu.unicorn.X86Reg;

import java.util.BitSet;
import java.util.OptionalLong;

/**
 * An x86-64 machine: a Unicorn engine, guest RAM at physical 0 that Java owns and reads
 * directly, and the parts that each do one job around them: the {@link DeviceBus} (port and
 * memory-mapped devices), the hypercall wiring ({@link HypercallWiring}), exception control
 * ({@link ExceptionControl}), dirty-page tracking ({@link DirtyPageTracking}), the guest-virtual
 * view ({@link VirtualMemoryView}) and the run loop ({@link RunLoop}, with its
 * {@link InstructionCounter}). The machine assembles them and hands out what upper layers
 * use; its methods are thin delegates. One thread at a time.
 */
public final class Machine implements AutoCloseable {
    private static final int TSC_AUX = 0xc000_0103;
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

    private final AnonymousMemory hostMemory;
    /** False for a machine built by {@link #sharingRam}: the bootstrap machine frees the RAM. */
    private final boolean ownsRam;
    private final GuestRam ram;
    private final Unicorn engine;
    private final DeviceBus bus;
    private final RunLoop runLoop;
    private final ExceptionControl exceptions;
    private final HypercallWiring hypercalls;
    private final DirtyPageTracking dirtyPages;
    private final PageWalker walker;
    private final VirtualMemoryView virtualMemory;
    private final RegisterBatch stateBatch;
    private final RegisterBatch gprBatch;
    private final long[] stateValues = new long[STATE_REGISTERS.length];
    private Context segmentCaches;
    private PcInterrupts interrupts;
    /** Devices mapped in this engine only ({@link #claimMemoryOnThisCpu}); the bus's claims are the bootstrap engine's. */
    private final java.util.List<dev.kemu.unicorn.MmioRegion> ownRegions = new java.util.ArrayList<>();

    public Machine(long ramBytes) {
        this(newRam(ramBytes), null);
    }

    private static AnonymousMemory newRam(long ramBytes) {
        if (ramBytes <= 0 || (ramBytes & 0xfff) != 0) {
            throw new IllegalArgumentException("guest RAM size must be a positive multiple of 4 KiB, got " + ramBytes);
        }
        return new AnonymousMemory(ramBytes);
    }

    /**
     * Another CPU of {@code bootstrap}'s machine: its own engine (so its own registers, TLB and translated
     * code) over the same host-owned guest RAM, with its port I/O going to {@code bootstrap}'s devices
     * (each device is called with this machine, so it reads this CPU's registers). Memory-mapped devices
     * stay in the engine that claimed them. The RAM belongs to {@code bootstrap}: close this machine first.
     * Used by {@link dev.kemu.machine.smp.CpuSet}.
     */
    public static Machine sharingRam(Machine bootstrap) {
        return new Machine(bootstrap.hostMemory, bootstrap);
    }

    private Machine(AnonymousMemory memory, Machine bootstrap) {
        this.hostMemory = memory;
        this.ownsRam = bootstrap == null;
        this.ram = bootstrap == null ? new GuestRam(hostMemory) : bootstrap.ram;
        long ramBytes = hostMemory.segment().byteSize();
        Unicorn opened = null;
        try {
            // Everything that can fail is in here: a missing library or a refused map must not leak guest RAM.
            opened = Unicorn.openX86_64();
            this.engine = opened;
            this.bus = bootstrap == null ? new DeviceBus(this, engine, ramBytes) : bootstrap.bus;
            this.runLoop = new RunLoop(this, engine);
            this.exceptions = new ExceptionControl(this, engine, runLoop);
            engine.memMapPtr(0, hostMemory.segment(), Prot.ALL);
            this.hypercalls = new HypercallWiring(this, engine, bus);
            engine.hookPortIn((uc, port, size) -> bus.in(this, port, size));
            exceptions.install();
            SyscallInstruction.install(this, engine);
            this.dirtyPages = new DirtyPageTracking(engine, ram);
            this.walker = new PageWalker(ram);
            this.virtualMemory = new VirtualMemoryView(engine, ram, walker);
            this.stateBatch = engine.batch(STATE_REGISTERS);
            this.gprBatch = engine.batch(X86Reg.GPRS);
        } catch (RuntimeException | Error e) {
            if (opened != null) {
                opened.close();
            }
            if (ownsRam) {
                hostMemory.close();
            }
            throw e;
        }
    }

    public GuestRam ram() {
        return ram;
    }

    /** The engine itself, for the machine layer and for tests of the binding; upper layers use the methods below. */
    public Unicorn engine() {
        return engine;
    }

    /** The emulator library's version, e.g. "2.1.4", and where it was loaded from. */
    public static String engineVersion() {
        return Unicorn.libraryVersion() + " from " + Unicorn.librarySource();
    }

    // ---- registers and CPU state ----------------------------------------------------------

    public long register(int id) {
        return engine.regRead(id);
    }

    public void setRegister(int id, long value) {
        engine.regWrite(id, value);
    }

    /** A model-specific register (e.g. {@code X86Reg.MSR_EFER}). */
    public long msr(int index) {
        return engine.readMsr(index);
    }

    public void setMsr(int index, long value) {
        engine.writeMsr(index, value);
    }

    /** A register wider than 64 bits (x87 ST0-7: 10 bytes, XMM0-15: 16 bytes), little-endian. */
    public byte[] registerBytes(int id, int size) {
        return engine.regReadBytes(id, size);
    }

    public void setRegisterBytes(int id, byte[] value) {
        engine.regWriteBytes(id, value);
    }

    /** A reusable block of registers read or written with one native call (no allocation per call). */
    public RegisterBlock registers(int... ids) {
        return new RegisterBlock(engine.batch(ids));
    }

    /** Registers of any width up to 16 bytes read with one native call into slots (for a debugger's register file). */
    public RegisterSlotBlock registerSlots(int... ids) {
        return new RegisterSlotBlock(engine.registerSlots(ids));
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

    /**
     * The code segment the CPU runs with, from its hidden descriptor cache in a saved context
     * (libunicorn 2.1.4 gives only the selector for CS in a 64-bit engine; see CodeSegmentCacheTest).
     */
    public CodeSegment codeSegment() {
        return PrivilegeState.get().codeSegment(savedSegmentCaches());
    }

    /** The CPU runs 64-bit code now (long mode, not compatibility mode): see {@link PrivilegeState#runs64BitCode}. */
    boolean runs64BitCode() {
        return PrivilegeState.get().runs64BitCode(savedSegmentCaches());
    }

    private Context savedSegmentCaches() {
        if (segmentCaches == null) {
            segmentCaches = engine.contextSave();
        } else {
            engine.contextSave(segmentCaches);
        }
        return segmentCaches;
    }

    /** The GDT the CPU uses now (GDTR's base and limit). */
    DescriptorTable gdt() {
        return table(X86Reg.GDTR);
    }

    private DescriptorTable table(int register) {
        Mmr mmr = engine.readMmr(register);
        return new DescriptorTable(mmr.base(), mmr.limit());
    }

    // ---- hooks for upper layers -----------------------------------------------------------

    /**
     * Tells the machine that the guest may just have turned paging off (a firmware's hand-off to a 32-bit
     * kernel): from here on stores to RAM take Unicorn's fast path again (see IdentityTlb). Callable from hooks;
     * does nothing while paging is on. Each run checks this by itself when it starts.
     */
    public void pagingMayBeOff() {
        runLoop.pagingMayBeOff();
    }

    /** Runs {@code action} each time execution reaches {@code address} (a one-address code hook). */
    public Subscription onInstructionAt(long address, Runnable action) {
        HookHandle hook = engine.hookCode(address, address, (uc, at, size) -> action.run());
        return hook::remove;
    }

    /** Called for a guest data access inside a watched range, before it takes effect. */
    @FunctionalInterface
    public interface MemoryListener {
        void onAccess(boolean write, long address, int size, long value);
    }

    /**
     * Calls {@code listener} for every guest read ({@code reads}) and/or write ({@code writes}) of
     * the physical range {@code [begin, end]} (inclusive). Unicorn 2.1.4 reports these accesses by
     * physical address (see DirtyPageTracking); instruction fetches are not reported.
     */
    public Subscription onMemoryAccess(long begin, long end, boolean reads, boolean writes, MemoryListener listener) {
        int types = (reads ? HookType.MEM_READ : 0) | (writes ? HookType.MEM_WRITE : 0);
        if (types == 0) {
            throw new IllegalArgumentException("a memory hook needs reads, writes or both");
        }
        HookHandle hook = engine.hookMem(types, begin, end,
                (uc, type, address, size, value) -> listener.onAccess(type == HookType.MEM_TYPE_WRITE, address, size, value));
        return hook::remove;
    }

    /**
     * Calls {@code action} with RIP before every instruction: a per-instruction upcall, for the
     * debugger's watchpoints only (a stop requested there happens before that instruction runs).
     */
    public Subscription onEachInstruction(java.util.function.LongConsumer action) {
        HookHandle hook = engine.hookCode(1, 0, (uc, address, size) -> action.accept(address));
        return hook::remove;
    }

    /** Calls {@code listener} before every basic block (one upcall per block). */
    public Subscription onBlock(BlockListener listener) {
        return onBlock(1, 0, listener);
    }

    /** Calls {@code listener} before every basic block that starts in {@code [begin, end]} (begin > end: all). */
    public Subscription onBlock(long begin, long end, BlockListener listener) {
        HookHandle hook = engine.hookBlock(begin, end, (uc, address, size) -> listener.onBlock(address, size));
        return hook::remove;
    }

    // ---- devices and hypercalls -----------------------------------------------------------

    /** The port and memory-mapped devices of this machine. */
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
        if (!ownsRam && nativeOutMissing() && bus.device(port) != null) {
            return; // the bootstrap CPU's Java hypercall device is on the shared bus and serves this CPU too
        }
        hypercalls.attach(port, handler);
    }

    /**
     * Attaches a PC's interrupt hardware for this CPU ({@link PcInterrupts}: PIC pair, PIT with port 0x61,
     * local APIC at 0xfee00000 and I/O APIC at 0xfec00000, the memory-mapped ones only when guest RAM ends
     * below them), once; from then on runs deliver external interrupts in deterministic virtual time.
     */
    public PcInterrupts attachPcInterrupts() {
        return attachPcInterrupts(ClockMode.INSTRUCTIONS);
    }

    /** {@link #attachPcInterrupts()} with device time from {@code clockMode} (the first call decides). */
    public PcInterrupts attachPcInterrupts(ClockMode clockMode) {
        if (interrupts != null && interrupts.clock().mode() != clockMode) {
            throw new IllegalStateException("this machine's interrupt hardware already runs on the " + interrupts.clock().mode()
                    + " clock; a machine has one clock, chosen when its interrupts are first attached");
        }
        if (interrupts == null) {
            PcInterrupts attached = new PcInterrupts(0, clockMode);
            attached.attach(bus, ram.size() <= IoApic.BASE.value());
            attachInterrupts(attached);
        }
        return interrupts;
    }

    private void attachInterrupts(PcInterrupts attached) {
        runLoop.attach(attached);
        engine.hookSkippable(X86Insn.RDTSC, uc -> readTimeStamp(attached, false));
        engine.hookSkippable(X86Insn.RDTSCP, uc -> readTimeStamp(attached, true));
        interrupts = attached;
    }

    /** RDTSC(P) from the virtual clock: EDX:EAX (and ECX = IA32_TSC_AUX for RDTSCP); the CPU skips its own. */
    private boolean readTimeStamp(PcInterrupts attached, boolean withAux) {
        long tsc = attached.timeStampCounter().read();
        engine.regWrite(X86Reg.RAX, tsc & 0xffff_ffffL);
        engine.regWrite(X86Reg.RDX, tsc >>> 32);
        if (withAux) {
            engine.regWrite(X86Reg.RCX, engine.readMsr(TSC_AUX) & 0xffff_ffffL);
        }
        return true;
    }

    /**
     * Attaches an application processor's interrupt hardware, once: its own local APIC with {@code apicId},
     * and the I/O APIC of {@code bootstrap} (the bootstrap CPU's {@link #attachPcInterrupts()}), so that its
     * runs deliver what its APIC accepts, in its own virtual time (docs/smp.md).
     */
    public PcInterrupts attachApInterrupts(int apicId, PcInterrupts bootstrap) {
        if (interrupts == null) {
            PcInterrupts attached = new PcInterrupts(apicId, ClockMode.INSTRUCTIONS);
            if (ram.size() <= IoApic.BASE.value()) {
                attached.attachApplicationProcessor(this, bootstrap);
            }
            attachInterrupts(attached);
        }
        return interrupts;
    }

    /**
     * Puts {@code device} behind {@code [first, first + size)} in this CPU's engine only, called with this
     * machine: what differs per CPU at one address (a local APIC) on a machine {@link #sharingRam} another,
     * whose {@link #bus()} maps devices in the bootstrap CPU's engine.
     */
    public void claimMemoryOnThisCpu(PhysAddr first, long size, MmioDevice device) {
        ownRegions.add(engine.mmioMap(first.value(), size, (uc, offset, width) -> device.read(this, offset, width),
                (uc, offset, width, value) -> device.write(this, offset, width, value)));
    }

    /** The interrupt hardware, if {@link #attachPcInterrupts()} attached it. */
    public java.util.Optional<PcInterrupts> interrupts() {
        return java.util.Optional.ofNullable(interrupts);
    }

    private boolean nativeOutMissing() {
        return !hypercalls.nativeTrampoline();
    }

    // ---- exceptions -----------------------------------------------------------------------

    public void setExceptionHandler(ExceptionHandler handler) {
        exceptions.setHandler(handler);
    }

    /**
     * The hardware error code of the exception being handled; valid inside an
     * {@link ExceptionHandler} (read from the saved CPU context, see {@link ExceptionState}).
     */
    public int exceptionErrorCode() {
        return exceptions.errorCode();
    }

    /**
     * Ends the exception being handled so that the next one is not escalated to #DF (Unicorn
     * issue 1883). Every handler that resumes the guest must call this.
     */
    public void finishException() {
        exceptions.finishException();
    }

    /**
     * Remembers the CPU's current privilege state (call it while the guest runs in kernel mode, in
     * the mode its handlers run in, e.g. at kmain) so that faults taken in ring 3 can later be
     * delivered to a kernel handler.
     */
    public void rememberKernelMode() {
        exceptions.rememberKernelMode();
    }

    /** Switches the CPU to the remembered kernel mode (CS cache, CPL 0, SS per {@code stack}); false if none is remembered. */
    boolean enterKernelMode(PrivilegeState.KernelStack stack) {
        return exceptions.enterKernelMode(stack);
    }

    /** The code selector of the remembered kernel mode, or -1. */
    int kernelCodeSelector() {
        return exceptions.kernelCodeSelector();
    }

    /** The stack selector of the remembered kernel mode, or -1. */
    int kernelStackSelector() {
        return exceptions.kernelStackSelector();
    }

    // ---- memory ---------------------------------------------------------------------------

    /**
     * Tracks every page written from now on: guest stores through a write hook, host writes
     * through {@link GuestRam}; see {@link DirtyPages} for when the set is incomplete. Used by {@link Snapshot}.
     */
    public DirtyPages dirtyPages() {
        return dirtyPages.pages();
    }

    /** The pages of guest RAM ever touched by anyone; the others are unbacked and read as zero. */
    BitSet residentPages() {
        return hostMemory.residentPages();
    }

    public PageWalker pageWalker() {
        return walker;
    }

    /** Drops cached translations after the host edited page tables. */
    public void flushTlb() {
        engine.flushTlb();
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
    public OptionalLong readVirtual64(long address) {
        return virtualMemory.read64(address);
    }

    /** See {@link VirtualMemoryView#write64}. */
    public boolean writeVirtual64(long address, long value) {
        return virtualMemory.write64(address, value);
    }

    // ---- running --------------------------------------------------------------------------

    /** Runs the guest from {@code startRip} until it stops; see {@link RunResult}. */
    public RunResult run(long startRip, RunLimits limits) {
        return run(startRip, 0, limits);
    }

    /** Runs from {@code startRip} until RIP reaches {@code endRip} (0 = no end address) or the guest stops. */
    public RunResult run(long startRip, long endRip, RunLimits limits) {
        exceptions.hookInvalidInstructions();
        return runLoop.run(startRip, endRip, limits);
    }

    /** How many times guest code started running on this CPU's engine (for {@link Snapshot}). */
    long emulations() {
        return runLoop.emulations();
    }

    /** Instructions executed so far in the current (or last) counted run. */
    public long instructionCount() {
        return runLoop.instructionCount();
    }

    /** Ends the current run after the current instruction; callable from any hook or device. */
    public void requestStop(StopReason reason, int code, String detail) {
        runLoop.requestStop(reason, code, detail);
    }

    /**
     * Ends the current counted run before its next instruction, which is neither executed nor counted
     * (the native counter stops there); for a memory hook, whose instruction completes first.
     */
    public void requestStopBeforeNextInstruction(StopReason reason, String detail) {
        runLoop.requestStopBeforeNextInstruction(reason, detail);
    }

    /** The address of the last instruction the current (or last) counted run counted, or -1 when none did. */
    public long lastCountedInstruction() {
        return runLoop.lastCountedInstruction();
    }

    @Override
    public void close() {
        runLoop.closeAlarm(); // no ring may reach the freed engine
        engine.close(); // then: no hook may run once what it uses is freed
        ownRegions.forEach(dev.kemu.unicorn.MmioRegion::close);
        hypercalls.close();
        runLoop.close();
        exceptions.close();
        if (segmentCaches != null) {
            segmentCaches.close();
        }
        if (ownsRam) {
            hostMemory.close();
        }
    }
}
