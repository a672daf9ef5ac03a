package dev.kemu.debug;

import dev.kemu.kernel.mm.KernelMemory;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.SpaceFault;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The page faults kemu's kernel services resolved, by kind: a page mapped in a kernel demand-paged
 * VMA, or what the address-space handler did in a space's user half (zero-filled frame, shared zero
 * page, copy-on-write copy or take-over). Only counts: resolved faults get no report.
 */
public final class ResolvedFaults {
    /** The kinds in summary order; {@code KERNEL_VMA} is a fault in a kernel demand-paged VMA. */
    public enum Kind {
        KERNEL_VMA("in a demand-paged VMA"),
        ZERO_FILLED("zero-filled"),
        ZERO_PAGE("zero page mapped"),
        COW_COPY("copy-on-write copy"),
        COW_TAKE_OVER("copy-on-write take-over");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Map<Kind, Long> counts = new EnumMap<>(Kind.class);

    /**
     * Counts the fault at {@code cr2} that the kernel services just resolved: the space handler's kind
     * when it was the handler's last fault (same page, user half), else a kernel demand-paged VMA's.
     */
    public Kind record(Optional<KernelMemory> memory, long cr2) {
        Kind kind = memory.flatMap(m -> m.spaces().lastFault())
                .filter(f -> Long.compareUnsigned(cr2, MmLayout.USER_END) < 0
                        && (f.address().value() & -MmLayout.PAGE) == (cr2 & -MmLayout.PAGE))
                .map(f -> kindOf(f.resolution())).orElse(Kind.KERNEL_VMA);
        counts.merge(kind, 1L, Long::sum);
        return kind;
    }

    static Kind kindOf(SpaceFault.Resolution resolution) {
        return switch (resolution) {
            case ZERO_FILLED -> Kind.ZERO_FILLED;
            case ZERO_PAGE_MAPPED -> Kind.ZERO_PAGE;
            case COPIED -> Kind.COW_COPY;
            case REUSED -> Kind.COW_TAKE_OVER;
            default -> Kind.KERNEL_VMA; // unresolved kinds never reach record()
        };
    }

    public long count(Kind kind) {
        return counts.getOrDefault(kind, 0L);
    }

    public void clear() {
        counts.clear();
    }

    /** "2 zero-filled, 1 zero page mapped, 1 copy-on-write copy" (kinds that occurred), or "none". */
    public String summary() {
        StringBuilder text = new StringBuilder();
        for (Kind kind : Kind.values()) {
            long n = count(kind);
            if (n > 0) {
                text.append(text.isEmpty() ? "" : ", ").append(n).append(' ').append(kind.label());
            }
        }
        return text.isEmpty() ? "none" : text.toString();
    }
}
