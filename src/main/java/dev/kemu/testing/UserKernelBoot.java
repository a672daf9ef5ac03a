package dev.kemu.testing;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.KernelBoot;
import dev.kemu.boot.KernelSources;
import dev.kemu.boot.KernelImages;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Symbol;
import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.RunResult;
import dev.kemu.machine.StopReason;
import java.util.Optional;

/**
 * Boots a kernel of the user's own (kemu's firmware stub, then the user's ELF) up to its snapshot point,
 * with the {@link HarnessReserve} cut from its memory map first. What is left for {@link TestMachine} is
 * to map the snippet areas and take the snapshot.
 */
final class UserKernelBoot {
    private static final String MARKER = "snapshot marker";

    private UserKernelBoot() {}

    /** The booted kernel, stopped at its snapshot point, the RAM kept for the harness, and the CPU mode snippets run in. */
    record Booted(KernelBoot boot, HarnessReserve reserve, Mode mode) {}

    /** The CPU mode at the snapshot point, which decides how snippets are placed and assembled. */
    enum Mode {
        /** 64-bit code with 4-level paging: snippets at TestMachine.CODE_VA, mapped into the kernel's tables. */
        LONG_MODE,
        /** 32-bit protected mode without paging: 32-bit snippets at their physical address. */
        PROTECTED_32
    }

    static Booted boot(KernelUnderTest kernel, BootOptions options, MemoryModes modes) {
        ElfImage firmware = ElfImage.read(KernelSources.defaults().buildFirmware());
        KernelBoot boot = new KernelBoot(firmware, KernelImages.read(kernel.image(), Optional.empty()),
                options.withRam(kernel.ramBytes()).withCommandLine(kernel.commandLine()).withCpus(kernel.cpus()));
        try {
            modes.applyTo(boot.services());
            HarnessReserve reserve = HarnessReserve.carve(boot);
            long start = boot.firstInstruction();
            RunLimits limits = new RunLimits(options.instructionBudget(), options.timeout());
            RunResult result = switch (kernel.snapshotAt()) {
                // Several CPUs take their turns until cpu0 arrives (a Limine kernel's APs are started before its entry).
                case SnapshotPoint.AtSymbol symbol -> boot.cpus().count() > 1
                        ? boot.cpus().run(start, address(boot, kernel, symbol), limits.instructionBudget(), limits.timeout()).last()
                        : boot.machine().run(start, address(boot, kernel, symbol), limits);
                case SnapshotPoint.AfterPortWrite port -> runToPortWrite(boot.machine(), start, port.port(), limits);
            };
            boolean arrived = kernel.snapshotAt() instanceof SnapshotPoint.AtSymbol
                    ? result.reason() == StopReason.REACHED_END
                    : result.reason() == StopReason.HOST_REQUEST && MARKER.equals(result.detail());
            if (!arrived) {
                throw new IllegalStateException("the kernel " + kernel.image() + " did not reach its snapshot point ("
                        + kernel.snapshotAt() + "): " + result.reason() + " (" + result.detail() + ") at "
                        + boot.symbols().symbolize(result.cpu().rip()) + " after " + result.instructions()
                        + " instructions" + consoleOf(boot)
                        + (boot.faults().reports().isEmpty() ? "" : "\n" + boot.faults().reports().getLast().text()));
            }
            Mode mode = modeOf(kernel, result.cpu());
            boot.machine().rememberKernelMode(); // for faults later taken in ring 3
            return new Booted(boot, reserve, mode);
        } catch (RuntimeException e) {
            boot.close();
            throw e;
        }
    }

    private static long address(KernelBoot boot, KernelUnderTest kernel, SnapshotPoint.AtSymbol symbol) {
        return boot.kernel().symbols().find(symbol.name()).map(Symbol::address).orElseThrow(() ->
                new IllegalArgumentException(kernel.image() + " has no symbol '" + symbol.name() + "' (snapshotAt): "
                        + "name a function the kernel reaches once it is ready (kmain, kernel_main, main), link the "
                        + "ELF with its symbol table, or mark the moment with a port write (snapshotAt = \"port:0x501\")"));
    }

    private static RunResult runToPortWrite(Machine machine, long start, int port, RunLimits limits) {
        try (Machine.Subscription marker = machine.attach(port,
                (m, p, size, value) -> m.requestStop(StopReason.HOST_REQUEST, 0, MARKER))) {
            return machine.run(start, limits);
        }
    }

    private static Mode modeOf(KernelUnderTest kernel, CpuState cpu) {
        if (cpu.longModeActive() && cpu.pagingEnabled()) {
            return Mode.LONG_MODE;
        }
        if (cpu.protectedMode() && !cpu.pagingEnabled() && !cpu.longModeActive()) {
            return Mode.PROTECTED_32;
        }
        throw new IllegalStateException(String.format("the kernel %s is neither in 64-bit mode with paging nor in "
                + "32-bit protected mode without paging at its snapshot point %s (CR0=0x%x, EFER=0x%x): kemu's snippets "
                + "run in one of those two; take the snapshot where the kernel is in one (32-bit paging is not "
                + "supported for snippets)", kernel.image(), kernel.snapshotAt(), cpu.cr0(), cpu.efer()));
    }

    private static String consoleOf(KernelBoot boot) {
        String text = boot.console().text();
        return text.isEmpty() ? "" : "\ndebug console so far:\n" + text;
    }
}
