package dev.kemu.testing;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootReport;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.debug.FaultPolicy;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MapResult;
import dev.kemu.kernel.mm.PageSize;
import dev.kemu.machine.DirtyPages;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.RegisterBlock;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.Snapshot;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;

/**
 * A booted kernel, with a code area and a stack for test snippets, frozen in a {@link Snapshot}:
 * kemu's bundled kernel with its memory services initialised, or a kernel of the user's own
 * ({@link KernelUnderTest}) stopped at its snapshot point, the areas mapped by kemu's memory services
 * when the kernel uses them and into its own page tables otherwise ({@link HarnessMapper}). Each {@link #run} starts from that snapshot,
 * so no test sees what another did. One per thread.
 *
 * <pre>
 *   0xffffffffc0000000  snippet code and data, 64 KiB, writable + executable
 *   0xffffffffc0100000  snippet stack, 16 KiB, writable, no-execute (RSP starts at its top)
 * </pre>
 */
public final class TestMachine implements AutoCloseable {
    /** Within 2 GiB of the kernel image, so that snippets can {@code call} kernel routines (rel32). */
    public static final long CODE_VA = 0xffff_ffff_c000_0000L;
    public static final long CODE_SIZE = 64 << 10;
    public static final long STACK_VA = 0xffff_ffff_c010_0000L;
    public static final long STACK_SIZE = 16 << 10;
    public static final int TRACE_BLOCKS = 32;

    private final KernelBoot boot;
    private final BootReport bootReport;
    private final KernelMemory memory;
    private final SnippetAssembler assembler;
    private final long codePhys;
    /** Where snippets run and where the stack starts: {@link #CODE_VA} / {@link #STACK_VA}, or identity-mapped reserve of a 32-bit kernel. */
    private final long codeVa;
    private final long stackTop;
    private final Snapshot snapshot;
    private final RegisterBlock startRegisters;
    private final RunWatchdog watchdog;
    private final Duration wallClockLimit = RunWatchdog.configuredLimit();
    private SnippetAssembler.Snippet loaded;
    /** The code area as {@link #loaded} leaves it: the snippet's image, then zeros. */
    private MemorySegment loadedArea;

    public TestMachine() {
        this(TRACE_BLOCKS);
    }

    /** {@code traceBlocks} = 0 runs without the block-trace hook (for benchmarks of the services). */
    public TestMachine(int traceBlocks) {
        this(traceBlocks, true);
    }

    /**
     * Without {@code snapshots} there is no write tracking and no reset: runs accumulate state.
     * Only for benchmarks of the kernel services, which should not pay for the test harness.
     */
    public TestMachine(int traceBlocks, boolean snapshots) {
        this(harnessOptions().withBlockTrace(traceBlocks), snapshots);
    }

    /**
     * The boot options of every test machine: REPORT, not the boot default AUTO, because a snippet's
     * fault must stop the test with its report ({@code guest.onFault(DELIVER)} runs the kernel's handler).
     */
    private static BootOptions harnessOptions() {
        return BootOptions.defaults().withFaultPolicy(FaultPolicy.REPORT).withBlockTrace(TRACE_BLOCKS);
    }

    /** A test machine with {@code ramBytes} of guest RAM instead of the default 64 MiB. */
    public TestMachine(long ramBytes) {
        this(harnessOptions().withRam(ramBytes), true);
    }

    /** kemu's bundled kernel booted with the memory debug {@code modes} ({@link MemoryDebug}), snapshotted after. */
    public TestMachine(MemoryModes modes) {
        this(new RunWatchdog(), harnessOptions(), modes, true);
    }

    /** A test machine booted from a kernel of the user's own, snapshotted at its {@link KernelUnderTest#snapshotAt()}. */
    public TestMachine(KernelUnderTest kernel) {
        this(kernel, MemoryModes.NONE);
    }

    /** The same with memory debug {@code modes}; they act only if the kernel calls HC_MM_INIT. */
    public TestMachine(KernelUnderTest kernel, MemoryModes modes) {
        this(new RunWatchdog(), kernel, modes);
    }

    private TestMachine(BootOptions options, boolean snapshots) {
        this(new RunWatchdog(), options, MemoryModes.NONE, snapshots);
    }

    private TestMachine(RunWatchdog watchdog, BootOptions options, MemoryModes modes, boolean snapshots) {
        this(watchdog, Parts.build(options, modes, snapshots));
    }

    private TestMachine(RunWatchdog watchdog, KernelUnderTest kernel, MemoryModes modes) {
        this(watchdog, Parts.build(kernel, harnessOptions(), modes));
    }

    private TestMachine(RunWatchdog watchdog, Parts parts) {
        this.watchdog = watchdog;
        boot = parts.boot();
        bootReport = parts.bootReport();
        memory = parts.memory();
        assembler = parts.assembler();
        codePhys = parts.codePhys();
        codeVa = parts.codeVa();
        stackTop = parts.stackTop();
        snapshot = parts.snapshot();
        startRegisters = parts.startRegisters();
    }

    /**
     * What the constructor builds: a booted kernel with the test areas mapped, and its snapshot. {@code memory}
     * is null for a kernel that does not use kemu's memory services; {@code bootReport} null for a user kernel
     * (its boot stops at the snapshot point, not at the end).
     */
    private record Parts(KernelBoot boot, BootReport bootReport, KernelMemory memory, SnippetAssembler assembler,
                         long codePhys, long codeVa, long stackTop, Snapshot snapshot, RegisterBlock startRegisters) {
        static Parts build(KernelUnderTest kernel, BootOptions options, MemoryModes modes) {
            UserKernelBoot.Booted booted = UserKernelBoot.boot(kernel, options, modes);
            KernelBoot boot = booted.boot();
            try {
                if (booted.mode() == UserKernelBoot.Mode.PROTECTED_32) {
                    // no paging: the reserve is where the snippet runs, addressed physically through flat segments
                    long codePhys = booted.reserve().take(CODE_SIZE);
                    long stackPhys = booted.reserve().take(STACK_SIZE);
                    return snapshotted(boot, null, null, new SnippetAssembler(kernel.image(), 32), codePhys, codePhys,
                            stackPhys + STACK_SIZE - 8, true);
                }
                KernelMemory memory = boot.services().memory().orElse(null);
                if (memory == null && modes.any()) {
                    throw new IllegalStateException("@MemoryDebug (" + modes + ") needs kemu's memory services, but the"
                            + " kernel " + kernel.image() + " made no HC_MM_INIT hypercall before its snapshot point ("
                            + kernel.snapshotAt() + "); take the snapshot after HC_MM_INIT or drop @MemoryDebug");
                }
                long codePhys;
                if (memory != null) {
                    codePhys = mapArea(memory, CODE_VA, CODE_SIZE, PageTableEntry.WRITABLE);
                    mapArea(memory, STACK_VA, STACK_SIZE, PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE);
                } else {
                    codePhys = mapHarnessAreas(boot, booted.reserve());
                }
                return snapshotted(boot, null, memory, new SnippetAssembler(kernel.image()), codePhys, CODE_VA,
                        STACK_VA + STACK_SIZE - 8, true);
            } catch (RuntimeException e) {
                boot.close();
                throw e;
            }
        }

        private static long mapHarnessAreas(KernelBoot boot, HarnessReserve reserve) {
            long codePhys = reserve.take(CODE_SIZE);
            long stackPhys = reserve.take(STACK_SIZE);
            var cpu = boot.machine().cpu();
            HarnessMapper mapper = new HarnessMapper(boot.machine().ram(), cpu.cr3(), reserve);
            mapper.map(CODE_VA, CODE_SIZE, codePhys, PageTableEntry.WRITABLE);
            // NX is a reserved bit while EFER.NXE is clear: set, it would fault every stack access
            boolean nx = (cpu.efer() & dev.kemu.machine.CpuState.EFER_NXE) != 0;
            mapper.map(STACK_VA, STACK_SIZE, stackPhys, PageTableEntry.WRITABLE | (nx ? PageTableEntry.NO_EXECUTE : 0));
            boot.machine().flushTlb();
            return codePhys;
        }

        private static Parts snapshotted(KernelBoot boot, BootReport bootReport, KernelMemory memory,
                                         SnippetAssembler assembler, long codePhys, long codeVa, long stackTop,
                                         boolean snapshots) {
            var cpu = boot.machine().cpu();
            if (snapshots && cpu.pagingEnabled()) {
                PreTouchedMappings.mark(boot.machine(), cpu.cr3(), CODE_VA, CODE_SIZE);
                PreTouchedMappings.mark(boot.machine(), cpu.cr3(), STACK_VA, STACK_SIZE);
            }
            RegisterBlock startRegisters = boot.machine().registers(X86Reg.RSP, X86Reg.RBP);
            startRegisters.write(new long[]{stackTop, 0});
            Snapshot snapshot = snapshots ? Snapshot.take(boot.machine()) : null;
            if (snapshot != null) {
                snapshot.leaveTranslationsOf(codePhys, CODE_SIZE); // run() drops them when the snippet changes
            }
            return new Parts(boot, bootReport, memory, assembler, codePhys, codeVa, stackTop, snapshot, startRegisters);
        }

        static Parts build(BootOptions options, MemoryModes modes, boolean snapshots) {
            KernelSources.BuiltImages images = KernelSources.defaults().build();
            KernelBoot boot = new KernelBoot(images, options);
            try {
                modes.applyTo(boot.services());
                BootReport bootReport = boot.run();
                if (!bootReport.succeeded()) {
                    throw new IllegalStateException("the kernel did not boot for the test harness: " + bootReport.failure().get());
                }
                KernelMemory memory = boot.services().memory().orElseThrow(() -> new IllegalStateException(
                        "kmain did not initialise the memory services (HC_MM_INIT)"));
                long codePhys = mapArea(memory, CODE_VA, CODE_SIZE, PageTableEntry.WRITABLE);
                mapArea(memory, STACK_VA, STACK_SIZE, PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE);
                return snapshotted(boot, bootReport, memory, new SnippetAssembler(images.kernel()), codePhys, CODE_VA,
                        STACK_VA + STACK_SIZE - 8, snapshots);
            } catch (RuntimeException e) {
                boot.close();
                throw e;
            }
        }
    }

    private static long mapArea(KernelMemory memory, long va, long size, long flags) {
        int order = Long.numberOfTrailingZeros(size / 4096);
        long phys = memory.frames().allocate(order, FrameType.ALLOCATED, true).orElseThrow(() -> new IllegalStateException(
                "no free block of 2^" + order + " frames for the test area at 0x" + Long.toHexString(va))).value();
        for (long offset = 0; offset < size; offset += 4096) {
            if (memory.pageTables().map(VirtAddr.of(va + offset), PhysAddr.of(phys + offset), PageSize.SIZE_4K, flags) != MapResult.OK) {
                throw new IllegalStateException("cannot map the test area at 0x" + Long.toHexString(va));
            }
        }
        return phys;
    }

    /**
     * Where snippets are loaded and start: {@link #CODE_VA}, or for a 32-bit protected-mode kernel (no paging)
     * the physical address of the harness's reserve, where its 32-bit snippets run.
     */
    public long codeAddress() {
        return codeVa;
    }

    public Machine machine() {
        return boot.machine();
    }

    public KernelBoot boot() {
        return boot;
    }

    /** kemu's memory services of the kernel; refused, with the reason, when the kernel does not use them. */
    public KernelMemory memory() {
        if (memory == null) {
            throw new IllegalStateException("the kernel under test does not use kemu's memory services (it made no "
                    + "HC_MM_INIT hypercall before its snapshot point), so there is no kemu allocator state to "
                    + "check; assert on the kernel's own memory (GuestRun.read64) instead");
        }
        return memory;
    }

    /** True when the kernel initialised kemu's memory services (HC_MM_INIT) before the snapshot. */
    public boolean usesMemoryServices() {
        return memory != null;
    }

    /** What happens to the next runs' faults that demand paging does not resolve (the guest's own handler, a report...). */
    public void faultPolicy(FaultPolicy policy) {
        boot.faults().policy(policy);
    }

    /** Back to the snapshot: RAM pages written since, CPU context, TLB, reports. Returns pages copied. */
    public long reset() {
        requireUsable();
        if (loaded != null && guestRewroteCode()) {
            loaded = null; // translations may be of the guest's bytes: the next run drops them all
        }
        long pages = snapshot != null ? snapshot.restore() : 0;
        if (snapshot == null) {
            startRegisters.write(new long[]{stackTop, 0});
        }
        boot.console().clear();
        boot.resetDevices();
        boot.faults().clear();
        boot.services().clearReports();
        boot.services().snapshotRestored();
        boot.faultAnalyzer().clearTrace();
        return pages;
    }

    /**
     * Whether the code area differs from the loaded snippet followed by zeros (its state in the
     * snapshot); only pages written since the last reset can, unless the tracker lost count.
     * Without a snapshot every page is compared: asking for the written pages would start the
     * write tracking such a machine is built without.
     */
    private boolean guestRewroteCode() {
        DirtyPages dirty = snapshot != null ? machine().dirtyPages() : null;
        MemorySegment area = machine().ram().segment().asSlice(codePhys, CODE_SIZE);
        for (long offset = 0; offset < CODE_SIZE; offset += 4096) {
            if ((dirty == null || !dirty.complete() || dirty.isDirty((codePhys + offset) >>> 12))
                    && area.asSlice(offset, 4096).mismatch(loadedArea.asSlice(offset, 4096)) != -1) {
                return true;
            }
        }
        return false;
    }

    /** How many resets had to compare all of guest RAM (the write tracker could not vouch for its set). */
    public long fullRestores() {
        return snapshot != null ? snapshot.fullScans() : 0;
    }

    /**
     * Resets, loads {@code source} at {@link #CODE_VA}, sets {@code registers}, and runs it to its end,
     * within the wall-clock limit of {@code -Dkemu.guest.timeout} (default 30 s).
     */
    public GuestRun run(String source, Map<Integer, Long> registers, long budget) {
        return run(source, registers, budget, wallClockLimit);
    }

    /**
     * The same with a wall-clock limit of its own ({@link Duration#ZERO}: none), the last resort against
     * host code that does not return; the instruction budget is what bounds guest code. A run that overruns
     * throws {@link GuestTimeoutException} and leaves this machine {@link #abandoned()}.
     */
    public GuestRun run(String source, Map<Integer, Long> registers, long budget, Duration wallClockLimit) {
        return run(source, SnippetAssembler.INLINE, registers, budget, wallClockLimit);
    }

    /** The same with assembler messages naming {@code origin} (the file the source came from). */
    public GuestRun run(String source, String origin, Map<Integer, Long> registers, long budget, Duration wallClockLimit) {
        return run(assembler.assemble(source, origin, codeVa), source, registers, budget, wallClockLimit);
    }

    /** Runs guest code in C: its {@code long kemu_test(void)}, whose result lands in RAX. */
    public GuestRun runC(String source, String origin, Map<Integer, Long> registers, long budget, Duration wallClockLimit) {
        return run(assembler.assembleC(source, origin, codeVa), source, registers, budget, wallClockLimit);
    }

    private GuestRun run(SnippetAssembler.Snippet snippet, String source, Map<Integer, Long> registers, long budget,
                         Duration wallClockLimit) {
        requireUsable();
        if (snippet.image().length > CODE_SIZE) {
            throw new IllegalArgumentException("snippet of " + snippet.image().length + " bytes exceeds the 64 KiB code area");
        }
        reset();
        machine().ram().write(codePhys, snippet.image());
        if (snippet != loaded) {
            // The host wrote code behind Unicorn's back: drop what it translated from the old bytes.
            // The same snippet again needs nothing: the bytes, and so the translations, are the same.
            int length = loaded == null ? (int) CODE_SIZE : Math.max(snippet.image().length, loaded.image().length);
            machine().codeChanged(codeVa, codeVa + length);
            loaded = snippet;
            boot.faultAnalyzer().loadedCodeSymbols(snippet.symbols()); // reports name the snippet's labels
            loadedArea = MemorySegment.ofArray(java.util.Arrays.copyOf(snippet.image(), (int) CODE_SIZE));
        }
        registers.forEach((register, value) -> machine().setRegister(register, value));
        // No Unicorn timeout: Unicorn starts a timer thread per timed run (~0.1 ms); the watchdog reuses one thread.
        long end = codeVa + snippet.codeEnd();
        RunResult result = watchdog.run(() -> machine().run(codeVa, end, new RunLimits(budget, Duration.ZERO)),
                wallClockLimit, () -> machine().requestStop(StopReason.TIMEOUT, 0,
                        "wall-clock limit of " + wallClockLimit + " passed (" + RunWatchdog.PROPERTY + ")"),
                () -> "the snippet\n" + source.indent(4)); // formatted only for a timeout's message
        return new GuestRun(this, result);
    }

    /** True after a run overran its wall-clock limit with host code stuck: this machine can no longer be used. */
    public boolean abandoned() {
        return watchdog.abandoned();
    }

    private void requireUsable() {
        if (watchdog.abandoned()) {
            throw new IllegalStateException("this TestMachine was abandoned after a run overran its wall-clock limit"
                    + " (host code is still stuck in it); make a new TestMachine");
        }
    }

    @Override
    public void close() {
        if (watchdog.abandoned()) {
            return; // the stuck runner thread still uses the engine: closing it under that thread would crash the JVM
        }
        if (snapshot != null) {
            snapshot.close();
        }
        boot.close();
        watchdog.close();
    }
}
