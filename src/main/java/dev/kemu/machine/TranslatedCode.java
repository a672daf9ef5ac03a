package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;

/**
 * Drops Unicorn's translated code of physical pages that the host rewrote behind its back (a
 * restore copies RAM with a plain memcpy, which Unicorn's self-modifying-code detection never
 * sees). {@code UC_CTL_TB_REMOVE_CACHE} takes a guest-virtual range and invalidates the physical
 * range behind its first page; with paging off that is the physical range itself, so the CPU is
 * put into that mode for the calls. The caller restores the CPU context afterwards.
 */
final class TranslatedCode {
    /** Without long mode, paging-off addresses are 32 bits: pages above this go through a full flush. */
    private static final long FLAT_LIMIT = 1L << 32;

    private TranslatedCode() {
    }

    static void drop(Unicorn engine, ChangedPages pages) {
        if (pages.runs() == 0) {
            return;
        }
        if (pages.end(pages.runs() - 1) * Snapshot.PAGE > FLAT_LIMIT) {
            engine.flushTranslationCache();
            return;
        }
        try {
            // Clearing CR0.PG makes Unicorn flush its TLB and translate addresses one to one.
            engine.regWrite(X86Reg.CR0, engine.regRead(X86Reg.CR0) & ~CpuState.CR0_PG);
            for (int i = 0; i < pages.runs(); i++) {
                engine.removeTranslationCache(pages.first(i) * Snapshot.PAGE, pages.end(i) * Snapshot.PAGE);
            }
        } catch (UnicornException e) {
            engine.flushTranslationCache(); // whatever state the guest left the CPU in: drop everything
        }
    }
}
