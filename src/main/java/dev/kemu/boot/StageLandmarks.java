package dev.kemu.boot;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.elf.Symbol;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The few addresses the boot observer needs, all optional on the kernel's side: the firmware's
 * handoff instruction (kemu's own firmware always has it), where the kernel's higher half starts,
 * and its C-style entry ({@code kmain}, {@code kernel_main} or {@code main}) if it has one.
 */
public record StageLandmarks(long firmwareHandoff, long higherHalf, OptionalLong kmain, Optional<String> kmainName,
                             List<Long> kmainAddresses, EntryState entryState) {
    /** The start of the canonical upper half, for kernels whose ELF does not show a VMA base. */
    public static final long UPPER_HALF = 0xffff_8000_0000_0000L;
    static final List<String> KMAIN_NAMES = List.of("kmain", "kernel_main", "main");

    /** The landmarks of a Multiboot 1 boot. */
    public static StageLandmarks of(ElfImage firmware, ElfImage kernel) {
        return of(firmware, kernel, Handoff.protectedMode(0, EntryState.MULTIBOOT1, List.of()));
    }

    /** The landmarks of a boot that hands over as {@code handoff} says. */
    public static StageLandmarks of(ElfImage firmware, ElfImage kernel, Handoff handoff) {
        String handoffName = handoff.handoffInstruction();
        long handoffAt = firmware.symbols().find(handoffName).map(Symbol::address).orElseThrow(() -> new IllegalStateException(
                firmware.path() + ": kemu's firmware has no symbol '" + handoffName + "'; rebuild it from kernel-asm/firmware.S"));
        Optional<Symbol> kmain = KMAIN_NAMES.stream().flatMap(name -> kernel.symbols().find(name).stream()).findFirst();
        return new StageLandmarks(handoffAt, higherHalf(kernel.segments()),
                kmain.map(s -> OptionalLong.of(s.address())).orElse(OptionalLong.empty()), kmain.map(Symbol::name),
                kmain.map(s -> kernel.symbols().addressesOf(s.name())).orElse(List.of()), handoff.state());
    }

    /**
     * The kernel's VMA base when its ELF shows one (the lowest address of a segment linked above where
     * it is loaded, e.g. 0xffffffff80000000 or a 32-bit kernel's 0xc0000000), otherwise {@link #UPPER_HALF}.
     */
    static long higherHalf(List<Segment> segments) {
        return segments.stream().filter(s -> Long.compareUnsigned(s.vaddr(), s.paddr()) > 0).mapToLong(Segment::vaddr)
                .reduce((a, b) -> Long.compareUnsigned(a, b) <= 0 ? a : b).orElse(UPPER_HALF);
    }

    public boolean inHigherHalf(long rip) {
        return Long.compareUnsigned(rip, higherHalf) >= 0;
    }
}
