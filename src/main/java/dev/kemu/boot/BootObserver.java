package dev.kemu.boot;

import dev.kemu.machine.CodeSegment;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RegisterBlock;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Watches a boot and records each {@link BootStage} the first time the CPU is in it. Nothing runs
 * per instruction: a one-address code hook on the firmware's handoff (kemu's own code) and, if the
 * kernel has one, on its {@code kmain}; in between a block hook that samples CR0, CR3 and CR4 at
 * the start of each block, because every instruction that switches mode ends a translation block
 * in QEMU and so in Unicorn (a write to CR0/CR3/CR4, a far jump; see TranslationBlockEndTest).
 * EFER and the CS descriptor cache are read only in the few blocks where long mode can begin.
 *
 * <p>The block hook is added at the handoff (kemu's firmware is never sampled) and removed as soon
 * as no stage is pending, or {@link #BLOCK_WINDOW} blocks after the last stage seen: a kernel that
 * stays in 32-bit mode or below the higher half stops paying for it then. Hooks are never removed
 * when they fire otherwise, since every removal invalidates translated code (and kemu saves and
 * restores the CPU context around it, see Unicorn.deleteHook).
 */
public final class BootObserver implements AutoCloseable {
    /** Blocks sampled after the last new stage before the observer stops looking (a mode switch after that is not reported). */
    public static final int BLOCK_WINDOW = 16_384;
    private static final Logger log = LoggerFactory.getLogger(BootObserver.class);

    private final Machine machine;
    private final StageLandmarks landmarks;
    private final boolean counting;
    private final Consumer<StageEvent> listener;
    private final Map<BootStage, StageEvent> reached = new EnumMap<>(BootStage.class);
    private final List<Machine.Subscription> codeHooks = new ArrayList<>();
    private final RegisterBlock controlRegisters;
    private final long[] control = new long[3];
    /** Two block hooks, below and from the higher half, so that the upper one can go during the run (see BlockSampler). */
    private BlockSampler lowBlocks, highBlocks;
    private boolean sampling;
    private long sampledBlocks;
    private long repeatedBlocks;
    private long previousBlock = -1;
    private long blocksSinceStage;
    private long entry;
    private long lastCr3 = -1;
    private String cpuName;

    /**
     * {@code counting}: whether the run has an instruction budget (without one the machine counts nothing);
     * {@code listener} hears each stage as it is recorded, while the guest is stopped there.
     */
    public BootObserver(Machine machine, StageLandmarks landmarks, boolean counting, Consumer<StageEvent> listener) {
        this.machine = machine;
        this.landmarks = landmarks;
        this.counting = counting;
        this.listener = listener;
        this.controlRegisters = machine.registers(X86Reg.CR0, X86Reg.CR3, X86Reg.CR4);
        codeHooks.add(machine.onInstructionAt(landmarks.firmwareHandoff(), this::onHandoff));
        for (long kmain : landmarks.kmainAddresses()) { // two for an ELF32 of a 64-bit kernel (see ElfImage)
            codeHooks.add(machine.onInstructionAt(kmain, this::onKmain));
        }
    }

    /** Names the observed CPU in every stage line from now on ("cpu0"): the machine has several CPUs. */
    public void nameCpu(String name) {
        this.cpuName = name;
    }

    private void onHandoff() {
        if (reached.containsKey(BootStage.FIRMWARE_HANDOFF)) {
            return;
        }
        record(BootStage.FIRMWARE_HANDOFF, machine.cpu());
        machine.pagingMayBeOff(); // kemu's firmware ran with paging on and hands a Multiboot kernel over without it
        // Added here, before any kernel code is translated, so every kernel block carries them.
        lowBlocks = new BlockSampler(machine, 0, landmarks.higherHalf() - 1, this::onBlock);
        highBlocks = new BlockSampler(machine, landmarks.higherHalf(), -1L, this::onBlock);
        sampling = true;
    }

    private void onKmain() {
        if (!reached.containsKey(BootStage.KMAIN)) {
            record(BootStage.KMAIN, machine.cpu());
            stopSamplingIfDone();
        }
    }

    private void onBlock(long address, int size) {
        if (!sampling || address == landmarks.firmwareHandoff()) {
            // The handoff's one-instruction block is the firmware's jump, never the kernel: it is seen here
            // when the run stopped right after the handoff hook (a budget, a host-time stop) and resumed at it.
            return;
        }
        sampledBlocks++;
        blocksSinceStage++;
        if (address == previousBlock) {
            // A block running again right after itself (a tight loop) wrote no control register: such a
            // write ends the block, so the next one would start after it, not at this block's start.
            repeatedBlocks++;
            stopSamplingIfDone();
            return;
        }
        previousBlock = address;
        controlRegisters.read(control);
        long cr0 = control[0], cr3 = control[1], cr4 = control[2];
        boolean paging = (cr0 & CpuState.CR0_PG) != 0;
        BootStage entryStage = landmarks.entryState().entryStage();
        if (!reached.containsKey(entryStage)) {
            // The identity page to watch: a Limine kernel starts in the higher half, kemu's firmware below it.
            entry = entryStage == BootStage.ENTRY_64 ? landmarks.firmwareHandoff() : address;
            record(entryStage, machine.cpu());
        }
        if (paging && !reached.containsKey(BootStage.PAGING_ON)) {
            record(BootStage.PAGING_ON, machine.cpu());
        }
        // 64-bit mode needs paging with PAE (then EFER.LMA follows EFER.LME) and a CS with L=1.
        if (paging && (cr4 & CpuState.CR4_PAE) != 0 && !reached.containsKey(BootStage.LONG_MODE)) {
            CpuState cpu = machine.cpu();
            if (cpu.longModeActive() && machine.codeSegment().longMode()) {
                record(BootStage.LONG_MODE, cpu);
            }
        }
        if (!reached.containsKey(BootStage.HIGHER_HALF) && landmarks.inHigherHalf(address)) {
            record(BootStage.HIGHER_HALF, machine.cpu());
        } else if (cr3 != lastCr3 && identityMapDropped(paging)) {
            record(BootStage.KERNEL_TABLES, machine.cpu());
        }
        lastCr3 = cr3;
        stopSamplingIfDone();
    }

    /**
     * In the higher half, with 4-level paging (the machine's walker), the entry's identity page no
     * longer translates: the kernel has switched to tables without its low identity map.
     */
    private boolean identityMapDropped(boolean paging) {
        if (!paging || lastCr3 < 0 || !reached.containsKey(BootStage.HIGHER_HALF)
                || reached.containsKey(BootStage.KERNEL_TABLES) || !reached.get(BootStage.HIGHER_HALF).cpu().longModeActive()) {
            return false;
        }
        return machine.physical(entry) < 0;
    }

    private void stopSamplingIfDone() {
        if (!sampling) {
            return;
        }
        boolean pending = false;
        for (BootStage stage : BootStage.values()) {
            boolean possible = (stage != BootStage.KMAIN || landmarks.kmain().isPresent())
                    && (stage != BootStage.ENTRY_32 && stage != BootStage.ENTRY_64
                        || stage == landmarks.entryState().entryStage());
            pending |= possible && !reached.containsKey(stage);
        }
        if (!pending || blocksSinceStage > BLOCK_WINDOW) {
            sampling = false;
            lowBlocks.retire();
            highBlocks.retire();
            log.trace("boot stages: sampling stopped after {} blocks ({}); block hooks removed: low {}, high {}",
                    sampledBlocks, pending ? "no new stage in " + BLOCK_WINDOW + " blocks" : "every stage reached",
                    lowBlocks.removed(), highBlocks.removed());
        }
    }

    private void record(BootStage stage, CpuState cpu) {
        CodeSegment code = machine.codeSegment();
        StageEvent event = new StageEvent(stage, cpu, code, counting ? machine.instructionCount() : -1,
                stage.violations(cpu, code, landmarks.entryState()), cpuName);
        reached.put(stage, event);
        blocksSinceStage = 0;
        log.trace("boot stage reached: {}", event.line());
        listener.accept(event);
    }

    /** Blocks the sampler has looked at so far (each costs one upcall, and one register read unless it repeats). */
    public long sampledBlocks() {
        return sampledBlocks;
    }

    /** Of {@link #sampledBlocks()}, those that repeated the block before them, for which no register was read. */
    public long repeatedBlocks() {
        return repeatedBlocks;
    }

    /** Whether the observer still samples blocks. */
    public boolean sampling() {
        return sampling;
    }

    /** Whether the block hook below the higher half is gone (otherwise its blocks still pay an upcall until close). */
    public boolean lowBlockHookRemoved() {
        return lowBlocks == null || lowBlocks.removed();
    }

    /** Whether the block hook over the higher half is gone. */
    public boolean highBlockHookRemoved() {
        return highBlocks == null || highBlocks.removed();
    }

    public List<StageEvent> events() {
        return List.copyOf(reached.values()); // EnumMap: boot order
    }

    public Optional<StageEvent> event(BootStage stage) {
        return Optional.ofNullable(reached.get(stage));
    }

    /** The last stage reached in boot order, if any. */
    public Optional<BootStage> lastStage() {
        BootStage last = null;
        for (BootStage stage : reached.keySet()) {
            last = stage;
        }
        return Optional.ofNullable(last);
    }

    /** Removes the remaining hooks; call it after the run (a removal invalidates translated code). */
    @Override
    public void close() {
        sampling = false;
        if (lowBlocks != null) {
            lowBlocks.close();
            highBlocks.close();
        }
        codeHooks.forEach(Machine.Subscription::close);
    }
}
