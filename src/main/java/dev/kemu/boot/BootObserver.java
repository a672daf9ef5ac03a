package dev.kemu.boot;

import dev.kemu.elf.SymbolTable;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Watches the boot: one single-address code hook per stage symbol, so no other instruction
 * pays for it. Records each stage the first time it is reached.
 */
public final class BootObserver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BootObserver.class);
    private final Machine machine;
    private final boolean counting;
    private final Map<BootStage, StageEvent> reached = new EnumMap<>(BootStage.class);
    private final Map<BootStage, Machine.Subscription> hooks = new EnumMap<>(BootStage.class);

    public BootObserver(Machine machine, SymbolTable firmwareSymbols, SymbolTable kernelSymbols) {
        this(machine, firmwareSymbols, kernelSymbols, true);
    }

    /** {@code counting}: whether the run has an instruction budget; without one the machine counts nothing. */
    public BootObserver(Machine machine, SymbolTable firmwareSymbols, SymbolTable kernelSymbols, boolean counting) {
        this.machine = machine;
        this.counting = counting;
        for (BootStage stage : BootStage.values()) {
            SymbolTable symbols = stage.inFirmware() ? firmwareSymbols : kernelSymbols;
            long address = symbols.find(stage.symbol()).orElseThrow(() -> new IllegalArgumentException(
                    "the " + (stage.inFirmware() ? "firmware" : "kernel") + " image has no symbol '" + stage.symbol()
                            + "' marking the stage '" + stage.title() + "'")).address();
            hooks.put(stage, machine.onInstructionAt(address, () -> record(stage)));
        }
    }

    private void record(BootStage stage) {
        if (reached.containsKey(stage)) {
            return;
        }
        // One-shot: the hook goes while its address is still mapped. Removing a code hook makes
        // Unicorn invalidate its translated blocks by virtual address, and for the early stages
        // at identity addresses, which the kernel unmaps in the higher half, that translation
        // faults inside Unicorn (a stray #PF: CR2 set, the next guest fault escalated).
        hooks.remove(stage).close();
        CpuState cpu = machine.cpu();
        boolean longModeCode = isLongModeCodeSegment(cpu);
        StageEvent event = new StageEvent(stage, cpu, longModeCode, counting ? machine.instructionCount() : -1,
                stage.violations(cpu, longModeCode));
        reached.put(stage, event);
        log.trace("boot stage reached: {}", event.line());
    }

    /** Reads the CS descriptor from the GDT the CPU uses and tests its L bit. */
    private boolean isLongModeCodeSegment(CpuState cpu) {
        java.util.OptionalLong descriptor = machine.readVirtual64(cpu.gdtr().base() + (cpu.cs() & ~7));
        return descriptor.isPresent() && (descriptor.getAsLong() & (1L << 53)) != 0;
    }

    public List<StageEvent> events() {
        List<StageEvent> ordered = new ArrayList<>();
        for (BootStage stage : BootStage.values()) {
            if (reached.containsKey(stage)) {
                ordered.add(reached.get(stage));
            }
        }
        return ordered;
    }

    public Optional<StageEvent> event(BootStage stage) {
        return Optional.ofNullable(reached.get(stage));
    }

    /** The last stage reached in boot order, if any. */
    public Optional<BootStage> lastStage() {
        BootStage last = null;
        for (BootStage stage : BootStage.values()) {
            if (reached.containsKey(stage)) {
                last = stage;
            }
        }
        return Optional.ofNullable(last);
    }

    @Override
    public void close() {
        hooks.values().forEach(Machine.Subscription::close);
    }
}
