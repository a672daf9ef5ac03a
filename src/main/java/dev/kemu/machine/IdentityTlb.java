package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The TLB of a CPU without paging, filled in C ({@code kemu_identity_tlb_fill} of native/kemu_hooks.c):
 * libunicorn 2.1.4 sends every store to a page its TLB lets execute down its slow path, and without
 * paging the CPU lets every page execute, so a store-heavy guest ran at a third of QEMU's speed. The
 * hook maps linear = physical like the CPU and grants execute only on the pages code was fetched from,
 * so stores elsewhere stay on the fast path and stores to code still invalidate its translations.
 * The first fill with CR0.PG on ends the run at that instruction; {@link #leavePagingOff} then hands
 * the engine back to the CPU's own page walk, until {@link #resumeIfPagingOff} finds paging off again
 * (before each run, and where a hook knows it was turned off). Without the library the engine keeps
 * the CPU's TLB (slower stores, same behaviour).
 */
final class IdentityTlb {
    private static final String HOOK_SYMBOL = "kemu_identity_tlb_fill";
    private static final long PAGE = 4096;
    /** {@code struct kemu_identity_tlb}, field for field. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("read"),
            ADDRESS.withName("ctl"),
            ADDRESS.withName("code_pages"),
            JAVA_LONG.withName("pages"),
            JAVA_INT.withName("cr0"),
            JAVA_INT.withName("flush_control"),
            JAVA_INT.withName("paging_seen"),
            JAVA_INT.withName("error"),
            JAVA_LONG.withName("fills")).withName("kemu_identity_tlb");
    private static final VarHandle READ = field("read"), CTL = field("ctl"), CODE_PAGES = field("code_pages"),
            PAGES = field("pages"), CR0 = field("cr0"), FLUSH_CONTROL = field("flush_control"),
            PAGING_SEEN = field("paging_seen"), ERROR = field("error");

    /**
     * Freed by the garbage collector once the machine is gone: closing a shared arena stops every thread of the JVM
     * for a handshake, a cost each new machine (each test-harness or benchmark boot) would pay.
     */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment block = arena.allocate(LAYOUT);
    private final Unicorn engine;
    private boolean active;

    private IdentityTlb(Unicorn engine, long ramBytes, MemorySegment function) {
        this.engine = engine;
        long pages = (ramBytes + PAGE - 1) / PAGE;
        READ.set(block, 0L, Unicorn.nativeFunction("uc_reg_read"));
        CTL.set(block, 0L, Unicorn.nativeFunction("uc_ctl"));
        CODE_PAGES.set(block, 0L, arena.allocate((pages + 7) / 8, 8)); // zeroed: no page holds code yet
        PAGES.set(block, 0L, pages);
        CR0.set(block, 0L, X86Reg.CR0);
        FLUSH_CONTROL.set(block, 0L, Unicorn.TLB_FLUSH_CONTROL);
        engine.setVirtualTlb(true);
        engine.hookTlbFillNative(function, block, 0);
        active = true;
    }

    /** The identity TLB on {@code engine}, whose RAM is {@code ramBytes} at physical 0; null without the library. */
    static IdentityTlb install(Unicorn engine, long ramBytes) {
        MemorySegment function = function();
        return function == null ? null : new IdentityTlb(engine, ramBytes, function);
    }

    private static VarHandle field(String name) {
        return LAYOUT.varHandle(groupElement(name));
    }

    /**
     * After uc_emu_start failed with UC_ERR_EXCEPTION: true when that was this TLB meeting CR0.PG, in which
     * case the engine now uses the CPU's page walk and the run resumes at RIP (the refused access's instruction).
     */
    boolean leavePagingOff() {
        if (!active || (int) PAGING_SEEN.get(block, 0L) == 0) {
            return false;
        }
        int error = (int) ERROR.get(block, 0L);
        if (error != 0) {
            throw Unicorn.nativeCallFailed(error, "uc_reg_read(CR0) in the native TLB fill hook");
        }
        active = false;
        engine.setVirtualTlb(false);
        return true;
    }

    /**
     * Takes the TLB back from the CPU's page walk when paging is off again (a firmware that turned it on and off,
     * a reset); callable between runs and from hooks. Returns whether this TLB fills the engine's now.
     */
    boolean resumeIfPagingOff() {
        if (!active && (engine.regRead(X86Reg.CR0) & CpuState.CR0_PG) == 0) {
            PAGING_SEEN.set(block, 0L, 0);
            engine.setVirtualTlb(true);
            engine.flushTlb(); // entries the CPU's walk made let every page execute: refill them here
            // Code translated while the CPU's walk filled the TLB is not in code_pages, so stores to its pages would
            // now take the fast path past Unicorn's self-modifying-code check: drop those translations.
            engine.flushTranslationCache();
            active = true;
        }
        return active;
    }

    private static MemorySegment function() {
        return KemuHooksLibrary.function(HOOK_SYMBOL, LAYOUT, "native TLB fill hook",
                "stores to RAM without paging take Unicorn's slow path").orElse(null);
    }
}
