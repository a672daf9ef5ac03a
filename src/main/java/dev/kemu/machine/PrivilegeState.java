package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Where the saved CPU context keeps the segment caches (QEMU's {@code SegmentCache segs[6]}:
 * u32 selector, u64 base, u32 limit, u32 flags; 24 bytes each, ES first) and {@code hflags}
 * (whose low two bits are the CPL), found by calibration in a scratch engine: a kernel-mode
 * context with CS 0x08 / SS 0x10 against a user-mode one with CS 0x23 / SS 0x1b.
 *
 * <p>Unicorn's register API refuses to load a more privileged CS, so entering a kernel handler
 * from ring 3 is done the way the CPU's interrupt logic does it internally: the CS cache and
 * hflags come from a kernel-mode context of the same machine, SS becomes the null selector.
 */
public final class PrivilegeState {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final int SEGMENT_CACHE = 24, CS = 1, SS = 2;
    /**
     * The hflags bits that follow CPL, CS and SS (QEMU's HF_CPL, HF_CS32, HF_SS32, HF_ADDSEG, HF_CS64): only these
     * come from the kernel context. The rest mirror CR0/CR4/EFER (TS, MP, EM, OSFXSR, SMAP) and SMM as they are
     * now, which a copy from kmain's context would roll back.
     */
    private static final int HF_CS64 = 1 << 15, SEGMENT_HFLAGS = 0x3 | 1 << 4 | 1 << 5 | 1 << 6 | HF_CS64;
    /** QEMU's HF_INHIBIT_IRQ: the sti/mov-ss shadow, which ends when the CPU enters a handler. */
    private static final int HF_INHIBIT_IRQ = 1 << 3;
    private static volatile PrivilegeState calibrated;

    private final long segmentsOffset;
    private final long hflagsOffset;

    private PrivilegeState(long segmentsOffset) {
        this.segmentsOffset = segmentsOffset;
        this.hflagsOffset = segmentsOffset - 8; // hflags, hflags2, then segs[]
    }

    public static PrivilegeState get() {
        PrivilegeState state = calibrated;
        if (state == null) {
            synchronized (PrivilegeState.class) {
                state = calibrated;
                if (state == null) {
                    state = calibrate();
                    calibrated = state;
                }
            }
        }
        return state;
    }

    /** What SS becomes on entering CPL 0: null in long mode, the kernel's (the TSS's SS0) in protected mode. */
    public enum KernelStack { NULL_SELECTOR, KERNEL_SELECTOR }

    /** The SS selector recorded in a saved context. */
    public int stackSelector(Context context) {
        return context.bytes().get(I32, segmentsOffset + SS * SEGMENT_CACHE) & 0xffff;
    }

    /** The CS selector recorded in a saved context. */
    public int codeSelector(Context context) {
        return context.bytes().get(I32, segmentsOffset + CS * SEGMENT_CACHE) & 0xffff;
    }

    /**
     * Whether a saved context runs 64-bit code: QEMU's HF_CS64, which it sets from CS.L with EFER.LMA. Unicorn's own
     * 64-bit start state has it without an L bit in the CS cache, so the flag, not the cache, is what the CPU obeys.
     */
    public boolean runs64BitCode(Context context) {
        return (context.bytes().get(I32, hflagsOffset) & HF_CS64) != 0;
    }

    /** The CS descriptor cache recorded in a saved context: what the CPU runs with, not the GDT entry in memory. */
    public CodeSegment codeSegment(Context context) {
        MemorySegment bytes = context.bytes();
        long cs = segmentsOffset + CS * SEGMENT_CACHE;
        return new CodeSegment(bytes.get(I32, cs) & 0xffff, bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, cs + 8),
                bytes.get(I32, cs + 16), bytes.get(I32, cs + 20));
    }

    /**
     * Switches the CPU to the privilege of {@code kernel} (a context saved in kernel mode): its CS
     * cache and hflags, and a null SS, as a 64-bit interrupt to CPL 0 leaves them.
     */
    public void enterKernelMode(Unicorn engine, Context scratch, Context kernel) {
        enterKernelMode(engine, scratch, kernel, KernelStack.NULL_SELECTOR);
    }

    /** As above; {@link KernelStack#KERNEL_SELECTOR} takes the SS cache from {@code kernel} too (protected mode). */
    public void enterKernelMode(Unicorn engine, Context scratch, Context kernel, KernelStack stack) {
        engine.contextSave(scratch);
        MemorySegment now = scratch.bytes(), reference = kernel.bytes();
        int live = now.get(I32, hflagsOffset), kernelFlags = reference.get(I32, hflagsOffset);
        now.set(I32, hflagsOffset, (live & ~SEGMENT_HFLAGS & ~HF_INHIBIT_IRQ) | (kernelFlags & SEGMENT_HFLAGS));
        long cs = segmentsOffset + CS * SEGMENT_CACHE, ss = segmentsOffset + SS * SEGMENT_CACHE;
        MemorySegment.copy(reference, cs, now, cs, SEGMENT_CACHE);
        if (stack == KernelStack.KERNEL_SELECTOR) {
            MemorySegment.copy(reference, ss, now, ss, SEGMENT_CACHE);
        } else {
            now.asSlice(ss, SEGMENT_CACHE).fill((byte) 0);
        }
        engine.contextRestore(scratch);
    }

    // ---- calibration ---------------------------------------------------------------------------

    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000, KERNEL_CODE = 0x10000,
            SUPERVISOR_DATA = 0x11000, KERNEL_STACK = 0x14000, USER_PAGE = 0x15000, GDT = 0x16000;

    private static PrivilegeState calibrate() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            buildRing3Fault(uc);
            byte[][] saved = new byte[2][];
            uc.hookInterrupt((engine, vector) -> {
                try (Context inside = engine.contextSave()) {
                    saved[vector == ExceptionVector.BP ? 0 : 1] = inside.bytes().toArray(ValueLayout.JAVA_BYTE);
                }
                engine.stop();
            });
            uc.start(KERNEL_CODE, KERNEL_CODE + 0x1000, 0, 0);
            try (Context scratch = uc.contextSave()) {
                ExceptionState.get().finishException(uc, scratch);
            }
            uc.start(KERNEL_CODE + 0x1B, KERNEL_CODE + 0x1000, 0, 0);
            if (saved[0] == null || saved[1] == null) {
                throw new IllegalStateException("privilege calibration: the kernel or user fault did not arrive");
            }
            return new PrivilegeState(findCodeSegment(saved[0], saved[1]) - CS * SEGMENT_CACHE);
        }
    }

    /**
     * The calibration machine in {@code uc}: kernel code at P0x10000 loads the flat GDT and stops
     * at an int3 in ring 0 (offset 0x1a), then (from 0x1b) irets to ring 3 at P0x15000, where a
     * read of the supervisor page P0x11000 faults. Paging on, identity-mapped; PrivilegeStateTest
     * runs the same machine.
     */
    static void buildRing3Fault(Unicorn uc) {
        uc.memMap(0, 0x20000, Prot.ALL);
        Calibration.write64(uc, PML4, PDPT | 7);
        Calibration.write64(uc, PDPT, PD | 7);
        Calibration.write64(uc, PD, PT | 7);
        Calibration.write64(uc, PT + 8 * (KERNEL_CODE >> 12), KERNEL_CODE | 1);
        Calibration.write64(uc, PT + 8 * (SUPERVISOR_DATA >> 12), SUPERVISOR_DATA | 1);
        Calibration.write64(uc, PT + 8 * (KERNEL_STACK >> 12), KERNEL_STACK | 3);
        Calibration.write64(uc, PT + 8 * (USER_PAGE >> 12), USER_PAGE | 7);
        Calibration.write64(uc, PT + 8 * (GDT >> 12), GDT | 3); // writable: loading a segment sets its accessed bit
        for (int i = 0; i < FlatSegments.GDT.length; i++) {
            Calibration.write64(uc, GDT + 8L * i, FlatSegments.GDT[i]);
        }
        uc.memWrite(GDT + 0x100, FlatSegments.gdtr(GDT));
        uc.memWrite(KERNEL_CODE, FlatSegments.concat(FlatSegments.loadKernelSegments(GDT + 0x100),
                new byte[]{(byte) 0xCC},                                    // int3: kernel-mode context
                FlatSegments.iretToUser(USER_PAGE, USER_PAGE + 0xff0)));
        uc.memWrite(USER_PAGE, new byte[]{0x48, (byte) 0x8B, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00}); // mov rax, [0x11000]
        uc.regWrite(X86Reg.CR3, PML4);
        uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
        uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
        uc.regWrite(X86Reg.RSP, KERNEL_STACK + 0x800);
    }

    /** The one offset where both contexts hold the expected CS, SS and CPL; several is refused, never guessed. */
    private static long findCodeSegment(byte[] kernel, byte[] user) {
        MemorySegment k = MemorySegment.ofArray(kernel), u = MemorySegment.ofArray(user);
        java.util.List<Long> matches = new java.util.ArrayList<>();
        for (long at = 32; at + 2 * SEGMENT_CACHE <= Math.min(kernel.length, user.length); at += 4) {
            boolean cs = k.get(I32, at) == 0x08 && u.get(I32, at) == 0x23;
            boolean ss = k.get(I32, at + SEGMENT_CACHE) == 0x10 && u.get(I32, at + SEGMENT_CACHE) == 0x1b;
            long hflags = at - SEGMENT_CACHE - 8;
            boolean cpl = (k.get(I32, hflags) & 3) == 0 && (u.get(I32, hflags) & 3) == 3;
            if (cs && ss && cpl) {
                matches.add(at);
            }
        }
        if (matches.size() != 1) {
            throw new IllegalStateException("cannot calibrate the segment caches of this libunicorn's CPU context: "
                    + (matches.isEmpty() ? "no offset" : "offsets " + matches.stream().map(Long::toHexString)
                    .map(h -> "0x" + h).toList()) + " hold CS 0x08/0x23, SS 0x10/0x1b and CPL 0/3 in a kernel and "
                    + "a user context (expected exactly one)");
        }
        return matches.get(0);
    }
}
