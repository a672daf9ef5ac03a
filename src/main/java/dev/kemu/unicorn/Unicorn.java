package dev.kemu.unicorn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static dev.kemu.unicorn.UnicornNative.Function.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * An x86-64 Unicorn engine. Not thread-safe: one engine belongs to one thread, and its hooks
 * run on that thread inside {@link #start}. Addresses passed to memory methods are guest
 * physical while paging is off, and what Unicorn's memory map holds: guest physical RAM.
 * Every native failure becomes a {@link UnicornException} naming the call and its arguments.
 */
public final class Unicorn implements AutoCloseable {
    private static final int UC_ARCH_X86 = 4;
    private static final int UC_MODE_64 = 1 << 3;
    private static final int UC_MODE_16 = 1 << 1;
    private static final int CTL_WRITE = 1 << 30;
    private static final int CTL_READ = 2 << 30;
    private static final int CTL_CPU_MODEL = 7, CTL_TB_REMOVE_CACHE = 9, CTL_TB_FLUSH = 10, CTL_TLB_FLUSH = 11,
            CTL_TLB_TYPE = 12;
    /** {@code UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0)}: the control word of uc_ctl's TLB flush, for native hooks. */
    public static final int TLB_FLUSH_CONTROL = CTL_WRITE | CTL_TLB_FLUSH;
    private static final int CTL_USE_EXITS = 4, CTL_EXITS = 6;

    private final UnicornNative lib;
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment handle;
    private final MemorySegment scratch;
    private final List<HookHandle> hooks = new ArrayList<>();
    private final List<MmioRegion> mmioRegions = new ArrayList<>();
    private Throwable hookFailure;
    /** The CPU state kept across uc_hook_del; see {@link #deleteHook}. */
    private Context hookDeletionState;
    private boolean closed;

    private Unicorn(UnicornNative lib, MemorySegment handle) {
        this.lib = lib;
        this.handle = handle;
        this.scratch = arena.allocate(64, 16);
    }

    /** Opens an engine in x86-64 mode (the CPU starts in long mode with paging off). */
    public static Unicorn openX86_64() {
        return open(UC_MODE_64, "UC_MODE_64");
    }

    /**
     * Opens an x86 engine that starts in real mode, as a CPU does after reset; its code can switch it to
     * protected and long mode itself. Unicorn computes EIP for {@link #start} as {@code begin - 16 * CS}
     * in this mode (whatever mode the CPU has reached): callers add {@code 16 * CS} to the RIP they resume at.
     */
    public static Unicorn openX86_16() {
        return open(UC_MODE_16, "UC_MODE_16");
    }

    private static Unicorn open(int mode, String modeName) {
        UnicornNative lib = UnicornNative.get();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            int err = (int) lib.handle(OPEN).invokeExact(UC_ARCH_X86, mode, out);
            check(lib, err, "uc_open(UC_ARCH_X86, " + modeName + ")");
            return new Unicorn(lib, out.get(ADDRESS, 0));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_open failed", t);
        }
    }

    /** The loaded library's version, e.g. "2.1.4", and where it was loaded from. */
    public static String libraryVersion() {
        return UnicornNative.get().versionString();
    }

    public static String librarySource() {
        return UnicornNative.get().source;
    }

    // ---- memory -------------------------------------------------------------------------

    /** Maps {@code [address, address+size)} with fresh zeroed memory owned by Unicorn. */
    public void memMap(long address, long size, int prot) {
        call(() -> (int) lib.handle(MEM_MAP).invokeExact(handle, address, size, prot),
                "uc_mem_map(address=0x%x, size=0x%x, prot=%s)", address, size, Prot.describe(prot));
    }

    /** Maps host memory the caller owns and keeps alive as guest memory at {@code address}. */
    public void memMapPtr(long address, MemorySegment host, int prot) {
        call(() -> (int) lib.handle(MEM_MAP_PTR).invokeExact(handle, address, host.byteSize(), prot, host),
                "uc_mem_map_ptr(address=0x%x, size=0x%x, prot=%s)", address, host.byteSize(), Prot.describe(prot));
    }

    /**
     * Maps {@code [address, address+size)} as memory-mapped I/O: every guest load there calls
     * {@code read} and every store {@code write}, with the offset from {@code address} and the
     * access size. Unicorn wants {@code address} and {@code size} 4 KiB-aligned and the range
     * free. The region owns its two registry entries; see {@link MmioRegion}.
     */
    public MmioRegion mmioMap(long address, long size, Hooks.MmioRead read, Hooks.MmioWrite write) {
        long readId = UpcallTargets.register(new Upcalls.MmioRead(this, read));
        long writeId = UpcallTargets.register(new Upcalls.MmioWrite(this, write));
        try {
            call(() -> (int) lib.handle(MMIO_MAP).invokeExact(handle, address, size, Upcalls.Shape.MMIO_READ.stub(),
                    MemorySegment.ofAddress(readId), Upcalls.Shape.MMIO_WRITE.stub(), MemorySegment.ofAddress(writeId)),
                    "uc_mmio_map(address=0x%x, size=0x%x)", address, size);
        } catch (RuntimeException e) {
            UpcallTargets.unregister(readId);
            UpcallTargets.unregister(writeId);
            throw e;
        }
        MmioRegion region = new MmioRegion(this, address, size, readId, writeId);
        mmioRegions.add(region);
        return region;
    }

    void unmapMmio(MmioRegion region) {
        mmioRegions.remove(region);
        if (!closed) {
            memUnmap(region.address(), region.size());
        }
    }

    public void memUnmap(long address, long size) {
        call(() -> (int) lib.handle(MEM_UNMAP).invokeExact(handle, address, size),
                "uc_mem_unmap(address=0x%x, size=0x%x)", address, size);
    }

    public void memProtect(long address, long size, int prot) {
        call(() -> (int) lib.handle(MEM_PROTECT).invokeExact(handle, address, size, prot),
                "uc_mem_protect(address=0x%x, size=0x%x, prot=%s)", address, size, Prot.describe(prot));
    }

    public List<MemRegion> memRegions() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment regionsOut = local.allocate(ADDRESS);
            MemorySegment countOut = local.allocate(JAVA_INT);
            call(() -> (int) lib.handle(MEM_REGIONS).invokeExact(handle, regionsOut, countOut), "uc_mem_regions()");
            int count = countOut.get(JAVA_INT, 0);
            MemorySegment array = regionsOut.get(ADDRESS, 0).reinterpret(24L * count);
            List<MemRegion> regions = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long base = i * 24L;
                regions.add(new MemRegion(array.get(JAVA_LONG, base), array.get(JAVA_LONG, base + 8),
                        array.get(JAVA_INT, base + 16)));
            }
            freeNative(array);
            return regions;
        }
    }

    public void memRead(long address, MemorySegment destination) {
        call(() -> (int) lib.handle(MEM_READ).invokeExact(handle, address, destination, destination.byteSize()),
                "uc_mem_read(address=0x%x, size=0x%x)", address, destination.byteSize());
    }

    public byte[] memRead(long address, int length) {
        byte[] bytes = new byte[length];
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buffer = local.allocate(Math.max(1, length));
            memRead(address, buffer.asSlice(0, length));
            MemorySegment.copy(buffer, JAVA_BYTE, 0, bytes, 0, length);
        }
        return bytes;
    }

    public void memWrite(long address, MemorySegment source) {
        call(() -> (int) lib.handle(MEM_WRITE).invokeExact(handle, address, source, source.byteSize()),
                "uc_mem_write(address=0x%x, size=0x%x)", address, source.byteSize());
    }

    public void memWrite(long address, byte[] bytes) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment buffer = local.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buffer, JAVA_BYTE, 0, bytes.length);
            memWrite(address, buffer.asSlice(0, bytes.length));
        }
    }

    /**
     * Translates a guest-virtual address with the current page tables ({@code uc_vmem_translate},
     * Unicorn 2.1.4 and later). Returns -1 when the address is not mapped for the given access.
     */
    public long translate(long virtualAddress, int prot) {
        if (!lib.hasVmemTranslate()) {
            throw new UnsupportedOperationException("uc_vmem_translate needs libunicorn >= 2.1.4; loaded "
                    + lib.versionString());
        }
        try {
            int err = (int) lib.handle(VMEM_TRANSLATE).invokeExact(handle, virtualAddress, prot, scratch);
            return err == 0 ? scratch.get(JAVA_LONG, 0) : -1;
        } catch (Throwable t) {
            throw new UnicornException("uc_vmem_translate failed", t);
        }
    }

    // ---- registers ----------------------------------------------------------------------

    /** Reads a register; narrower ones (segment selectors: 16 bits) are zero-extended. */
    public long regRead(int register) {
        try {
            scratch.set(JAVA_LONG, 0, 0); // Unicorn writes only a narrow register's own bytes
            int err = (int) lib.handle(REG_READ).invokeExact(handle, register, scratch);
            if (err != 0) {
                check(lib, err, "uc_reg_read(reg=" + register + ")");
            }
            return scratch.get(JAVA_LONG, 0);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_read failed", t);
        }
    }

    public void regWrite(int register, long value) {
        try {
            scratch.set(JAVA_LONG, 0, value);
            int err = (int) lib.handle(REG_WRITE).invokeExact(handle, register, scratch);
            if (err != 0) {
                check(lib, err, String.format("uc_reg_write(reg=%d, value=0x%x)", register, value));
            }
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_write failed", t);
        }
    }

    /**
     * Reads a register wider than 64 bits into {@code size} little-endian bytes: an x87 register
     * (ST0-ST7: 10 bytes, the 80-bit value) or an SSE register (XMM0-XMM15: 16 bytes).
     */
    public byte[] regReadBytes(int register, int size) {
        if (size <= 0 || size > 64) {
            throw new IllegalArgumentException("register size " + size + ": must be 1..64 bytes");
        }
        try {
            scratch.fill((byte) 0);
            int err = (int) lib.handle(REG_READ).invokeExact(handle, register, scratch);
            if (err != 0) {
                check(lib, err, "uc_reg_read(reg=" + register + ", " + size + " bytes)");
            }
            return scratch.asSlice(0, size).toArray(JAVA_BYTE);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_read failed", t);
        }
    }

    /** Writes a register wider than 64 bits from little-endian bytes; see {@link #regReadBytes}. */
    public void regWriteBytes(int register, byte[] value) {
        if (value.length == 0 || value.length > 64) {
            throw new IllegalArgumentException("register value of " + value.length + " bytes: must be 1..64 bytes");
        }
        try {
            scratch.fill((byte) 0);
            MemorySegment.copy(value, 0, scratch, JAVA_BYTE, 0, value.length);
            int err = (int) lib.handle(REG_WRITE).invokeExact(handle, register, scratch);
            if (err != 0) {
                check(lib, err, "uc_reg_write(reg=" + register + ", " + value.length + " bytes)");
            }
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_write failed", t);
        }
    }

    /** A reusable batch for the given registers; see {@link RegisterBatch}. */
    public RegisterBatch batch(int... registers) {
        return new RegisterBatch(this, arena, registers.clone());
    }

    /** Registers up to 16 bytes wide read with one native call into 16-byte slots; see {@link RegisterSlots}. */
    public RegisterSlots registerSlots(int... registers) {
        return new RegisterSlots(this, arena, registers.clone());
    }

    void batchCall(boolean read, MemorySegment ids, MemorySegment pointers, int count) {
        try {
            int err = read ? (int) lib.handle(REG_READ_BATCH).invokeExact(handle, ids, pointers, count)
                    : (int) lib.handle(REG_WRITE_BATCH).invokeExact(handle, ids, pointers, count);
            if (err != 0) {
                check(lib, err, read ? "uc_reg_read_batch" : "uc_reg_write_batch");
            }
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("register batch failed", t);
        }
    }

    public long readMsr(int msr) {
        scratch.set(JAVA_INT, 0, msr);
        scratch.set(JAVA_LONG, 8, 0);
        readRegisterIntoScratch(X86Reg.MSR, "MSR 0x", msr);
        return scratch.get(JAVA_LONG, 8);
    }

    /**
     * uc_reg_read into the scratch buffer, as {@link #regRead} does: no lambda and no boxed arguments per call,
     * since a debugger reads EFER and the descriptor tables at every stop. {@code kind} and {@code number} name the
     * register in an error ({@code MSR 0x} and the MSR in hex, or {@code mmr } and the register id).
     */
    private void readRegisterIntoScratch(int register, String kind, int number) {
        int err;
        try {
            err = (int) lib.handle(REG_READ).invokeExact(handle, register, scratch);
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_read(" + named(kind, number) + ") failed", t);
        }
        if (err != 0) {
            check(lib, err, "uc_reg_read(" + named(kind, number) + ")");
        }
    }

    private static String named(String kind, int number) {
        return kind + (kind.endsWith("0x") ? Integer.toHexString(number) : Integer.toString(number));
    }

    public void writeMsr(int msr, long value) {
        scratch.set(JAVA_INT, 0, msr);
        scratch.set(JAVA_LONG, 8, value);
        call(() -> (int) lib.handle(REG_WRITE).invokeExact(handle, X86Reg.MSR, scratch),
                "uc_reg_write(MSR 0x%x, 0x%x)", msr, value);
    }

    /** Reads GDTR, IDTR, LDTR or TR. */
    public Mmr readMmr(int register) {
        scratch.asSlice(0, Mmr.SIZE).fill((byte) 0);
        readRegisterIntoScratch(register, "mmr ", register);
        return new Mmr(Short.toUnsignedInt(scratch.get(JAVA_SHORT, 0)), scratch.get(JAVA_LONG, 8),
                scratch.get(JAVA_INT, 16), scratch.get(JAVA_INT, 20));
    }

    public void writeMmr(int register, Mmr value) {
        scratch.set(JAVA_SHORT, 0, (short) value.selector());
        scratch.set(JAVA_LONG, 8, value.base());
        scratch.set(JAVA_INT, 16, value.limit());
        scratch.set(JAVA_INT, 20, value.flags());
        call(() -> (int) lib.handle(REG_WRITE).invokeExact(handle, register, scratch),
                "uc_reg_write(mmr %d)", register);
    }

    // ---- execution ----------------------------------------------------------------------

    /**
     * Emulates from {@code begin} until {@code until} is reached, {@code timeoutMicros} passes
     * (0 = none), {@code count} instructions ran (0 = no limit), {@link #stop()} is called or
     * the guest stops. A hook's exception is rethrown here.
     */
    public void start(long begin, long until, long timeoutMicros, long count) {
        int err = startOrError(begin, until, timeoutMicros, count);
        if (err != 0) {
            throw startFailure(err, begin, until, timeoutMicros, count);
        }
    }

    /**
     * {@link #start}, except that uc_emu_start's own {@code uc_err} is returned (0: none) instead of
     * thrown: for a caller that expects one and resumes, without paying for an exception. A hook's failure
     * is thrown as by {@link #start}.
     */
    public int startOrError(long begin, long until, long timeoutMicros, long count) {
        hookFailure = null;
        int err;
        try {
            err = (int) lib.handle(EMU_START).invokeExact(handle, begin, until, timeoutMicros, count);
        } catch (Throwable t) {
            throw new UnicornException("uc_emu_start failed", t);
        }
        Throwable failure = hookFailure;
        hookFailure = null;
        if (failure instanceof RuntimeException runtime && !(failure instanceof UnicornException)) {
            throw runtime;
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (failure != null) {
            // A hook's UnicornException is wrapped too, so that callers can tell it from uc_emu_start's own error.
            throw new UnicornException("hook failed: " + failure, failure);
        }
        return err;
    }

    /** The exception {@link #start} throws for uc_emu_start's own {@code err} with these arguments. */
    public UnicornException startFailure(int err, long begin, long until, long timeoutMicros, long count) {
        return new UnicornException(UcError.of(err), strerror(lib, err), String.format(
                "uc_emu_start(begin=0x%x, until=0x%x, timeout=%dus, count=%d)", begin, until, timeoutMicros, count));
    }

    /** Stops emulation; safe to call from a hook. */
    public void stop() {
        try {
            int ignored = (int) lib.handle(EMU_STOP).invokeExact(handle);
        } catch (Throwable t) {
            throw new UnicornException("uc_emu_stop failed", t);
        }
    }

    /**
     * Stops emulation because a hook failed; {@link #start} rethrows {@code t}. Upcalls made
     * outside this binding (native trampolines) call it instead of letting an exception escape.
     */
    public void hookFailed(Throwable t) {
        if (hookFailure == null) {
            hookFailure = t;
        }
        stop();
    }

    // ---- hooks --------------------------------------------------------------------------

    /** Code hook for instructions in {@code [begin, end]} (inclusive; begin > end means everywhere). */
    public HookHandle hookCode(long begin, long end, Hooks.Code hook) {
        return addHook(HookType.CODE, new Upcalls.Code(this, hook), Upcalls.Shape.CODE, begin, end, -1);
    }

    public HookHandle hookBlock(long begin, long end, Hooks.Code hook) {
        return addHook(HookType.BLOCK, new Upcalls.Code(this, hook), Upcalls.Shape.CODE, begin, end, -1);
    }

    public HookHandle hookInterrupt(Hooks.Interrupt hook) {
        return addHook(HookType.INTR, new Upcalls.Interrupt(this, hook), Upcalls.Shape.INTR, 1, 0, -1);
    }

    public HookHandle hookPortIn(Hooks.PortIn hook) {
        return addHook(HookType.INSN, new Upcalls.PortIn(this, hook), Upcalls.Shape.IN, 1, 0, X86Insn.IN.id);
    }

    public HookHandle hookPortOut(Hooks.PortOut hook) {
        return addHook(HookType.INSN, new Upcalls.PortOut(this, hook), Upcalls.Shape.OUT, 1, 0, X86Insn.OUT.id);
    }

    public HookHandle hookSyscall(X86Insn instruction, Hooks.Syscall hook) {
        if (instruction != X86Insn.SYSCALL && instruction != X86Insn.SYSENTER) {
            throw new IllegalArgumentException("hookSyscall takes SYSCALL or SYSENTER, not " + instruction);
        }
        return addHook(HookType.INSN, new Upcalls.Syscall(this, hook), Upcalls.Shape.SYSCALL, 1, 0, instruction.id);
    }

    /**
     * An {@code out} hook implemented in native code: {@code callback} has Unicorn's
     * {@code uc_cb_insn_out_t} signature and gets {@code userData}. For native trampolines that
     * call back into Java themselves (they must report failures with {@link #hookFailed}).
     * {@code targetId}, from {@link UpcallTargets#register} (0 = none), is the trampoline's
     * entry in the registry: the hook owns it and releases it when removed or when the engine closes.
     */
    public HookHandle hookPortOutNative(MemorySegment callback, MemorySegment userData, long targetId) {
        MemorySegment out = scratch;
        try {
            call(() -> (int) lib.handle(HOOK_ADD_INSN).invokeExact(handle, out, HookType.INSN, callback, userData,
                    1L, 0L, X86Insn.OUT.id), "uc_hook_add(native out hook)");
        } catch (RuntimeException e) {
            if (targetId != 0) {
                UpcallTargets.unregister(targetId);
            }
            throw e;
        }
        HookHandle hook = new HookHandle(this, out.get(JAVA_LONG, 0), targetId);
        hooks.add(hook);
        return hook;
    }

    /**
     * A code hook on every instruction implemented in native code: {@code callback} has Unicorn's
     * {@code uc_cb_hookcode_t} signature and gets {@code userData}; {@code targetId} as for
     * {@link #hookPortOutNative}. Adding or removing it drops all translated code, like any code hook.
     */
    public HookHandle hookCodeNative(MemorySegment callback, MemorySegment userData, long targetId) {
        return hookEverywhereNative(HookType.CODE, "code", callback, userData, targetId);
    }

    /**
     * A block hook on every translated block implemented in native code, as {@link #hookCodeNative}: Unicorn
     * calls it before a block's first instruction with the block's address and size in bytes.
     */
    public HookHandle hookBlockNative(MemorySegment callback, MemorySegment userData, long targetId) {
        return hookEverywhereNative(HookType.BLOCK, "block", callback, userData, targetId);
    }

    /**
     * A TLB-fill hook implemented in native code ({@code uc_cb_tlbevent_t}), asked for every fill while the engine
     * is in virtual TLB mode ({@link #setVirtualTlb}); {@code userData} and {@code targetId} as for
     * {@link #hookPortOutNative}.
     */
    public HookHandle hookTlbFillNative(MemorySegment callback, MemorySegment userData, long targetId) {
        return hookEverywhereNative(HookType.TLB_FILL, "TLB fill", callback, userData, targetId);
    }

    private HookHandle hookEverywhereNative(int type, String kind, MemorySegment callback, MemorySegment userData,
                                            long targetId) {
        MemorySegment out = scratch;
        try {
            call(() -> (int) lib.handle(HOOK_ADD).invokeExact(handle, out, type, callback, userData, 1L, 0L),
                    "uc_hook_add(native " + kind + " hook)");
        } catch (RuntimeException e) {
            if (targetId != 0) {
                UpcallTargets.unregister(targetId);
            }
            throw e;
        }
        HookHandle hook = new HookHandle(this, out.get(JAVA_LONG, 0), targetId);
        hooks.add(hook);
        return hook;
    }

    /**
     * The exception for a libunicorn call that native code outside this binding made and saw
     * fail with {@code ucErr}: Unicorn's error name and text, and {@code call}.
     */
    public static UnicornException nativeCallFailed(int ucErr, String call) {
        UnicornNative lib = UnicornNative.get();
        return new UnicornException(UcError.of(ucErr), strerror(lib, ucErr), call);
    }

    /**
     * A JVM-lifetime upcall stub for static method {@code method} of {@code owner}, for native
     * trampolines outside this binding; the method must catch everything it could throw.
     */
    public static MemorySegment staticUpcall(Class<?> owner, String method, FunctionDescriptor descriptor) {
        return Upcalls.staticStub(owner, method, descriptor);
    }

    /** The address of a libunicorn function, for native code that calls Unicorn directly. */
    public static MemorySegment nativeFunction(String name) {
        return UnicornNative.get().function(name);
    }

    /** Memory access hook; {@code types} is a mask of {@link HookType#MEM_READ}, WRITE, FETCH, READ_AFTER. */
    public HookHandle hookMem(int types, long begin, long end, Hooks.MemAccess hook) {
        return addHook(types, new Upcalls.MemAccess(this, hook), Upcalls.Shape.MEM, begin, end, -1);
    }

    /** Unmapped or protection events; {@code types} is a mask of {@link HookType#MEM_UNMAPPED} / MEM_PROT bits. */
    public HookHandle hookMemEvent(int types, Hooks.MemEvent hook) {
        return hookMemEvent(types, 1, 0, hook);
    }

    /** As {@link #hookMemEvent(int, Hooks.MemEvent)}, for events at physical addresses in {@code [begin, end]} only. */
    public HookHandle hookMemEvent(int types, long begin, long end, Hooks.MemEvent hook) {
        return addHook(types, new Upcalls.MemEvent(this, hook), Upcalls.Shape.MEM_EVENT, begin, end, -1);
    }

    /**
     * A hook on CPUID, RDTSC or RDTSCP (Unicorn 2.1.3+ for the RDTSC pair), firing on that instruction only; the
     * hook's true means it set the result registers and the CPU skips its own.
     */
    public HookHandle hookSkippable(X86Insn instruction, Hooks.SkippableInstruction hook) {
        if (instruction != X86Insn.CPUID && instruction != X86Insn.RDTSC && instruction != X86Insn.RDTSCP) {
            throw new IllegalArgumentException("hookSkippable takes CPUID, RDTSC or RDTSCP, not " + instruction);
        }
        return addHook(HookType.INSN, new Upcalls.Skippable(this, hook), Upcalls.Shape.SKIPPABLE, 1, 0, instruction.id);
    }

    public HookHandle hookInvalidInstruction(Hooks.InvalidInstruction hook) {
        return addHook(HookType.INSN_INVALID, new Upcalls.Invalid(this, hook), Upcalls.Shape.INVALID, 1, 0, -1);
    }

    private HookHandle addHook(int type, Object target, Upcalls.Shape shape, long begin, long end, int insn) {
        MemorySegment stub = shape.stub();
        long id = UpcallTargets.register(target);
        MemorySegment userData = MemorySegment.ofAddress(id);
        MemorySegment out = scratch;
        try {
            int err = insn < 0
                    ? (int) lib.handle(HOOK_ADD).invokeExact(handle, out, type, stub, userData, begin, end)
                    : (int) lib.handle(HOOK_ADD_INSN).invokeExact(handle, out, type, stub, userData, begin, end, insn);
            if (err != 0) {
                UpcallTargets.unregister(id);
                check(lib, err, String.format("uc_hook_add(type=0x%x, begin=0x%x, end=0x%x)", type, begin, end));
            }
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            UpcallTargets.unregister(id);
            throw new UnicornException("uc_hook_add failed", t);
        }
        HookHandle hook = new HookHandle(this, out.get(JAVA_LONG, 0), id);
        hooks.add(hook);
        return hook;
    }

    /**
     * Deletes a hook without leaving a trace in the CPU. For code and block hooks uc_hook_del
     * invalidates every block the hook was instrumented into, and finding a block's page walks
     * the guest's current page tables: a block at an address that is no longer mapped (boot code
     * in a low identity map the kernel has since dropped) takes a page fault that Unicorn swallows
     * but that leaves CR2 and its {@code old_exception} set, so the guest's next #PF became a #DF
     * (see HookRemovalStateTest). Saving the CPU context around the call and restoring it after
     * undoes exactly that; removing a hook is rare, so the two copies cost nothing that matters.
     */
    void deleteHook(long nativeHandle) {
        if (hookDeletionState == null) {
            hookDeletionState = contextSave();
        } else {
            contextSave(hookDeletionState);
        }
        call(() -> (int) lib.handle(HOOK_DEL).invokeExact(handle, nativeHandle), "uc_hook_del(0x%x)", nativeHandle);
        contextRestore(hookDeletionState);
    }

    // ---- contexts -----------------------------------------------------------------------

    /** Saves the CPU context into a new {@link Context}. */
    public Context contextSave() {
        MemorySegment out = scratch;
        call(() -> (int) lib.handle(CONTEXT_ALLOC).invokeExact(handle, out), "uc_context_alloc()");
        MemorySegment pointer = out.get(ADDRESS, 0);
        long size;
        try {
            size = (long) lib.handle(CONTEXT_SIZE).invokeExact(handle);
        } catch (Throwable t) {
            throw new UnicornException("uc_context_size failed", t);
        }
        Context context = new Context(this, pointer, size);
        contextSave(context);
        return context;
    }

    public void contextSave(Context context) {
        MemorySegment pointer = context.pointer();
        call(() -> (int) lib.handle(CONTEXT_SAVE).invokeExact(handle, pointer), "uc_context_save()");
    }

    public void contextRestore(Context context) {
        MemorySegment pointer = context.pointer();
        call(() -> (int) lib.handle(CONTEXT_RESTORE).invokeExact(handle, pointer), "uc_context_restore()");
    }

    void freeContext(MemorySegment pointer) {
        call(() -> (int) lib.handle(CONTEXT_FREE).invokeExact(pointer), "uc_context_free()");
    }

    private void freeNative(MemorySegment pointer) {
        call(() -> (int) lib.handle(FREE).invokeExact(pointer), "uc_free()");
    }

    // ---- uc_ctl -------------------------------------------------------------------------

    /** Drops cached virtual-to-physical translations; needed after the host edits page tables. */
    public void flushTlb() {
        call(() -> (int) lib.handle(CTL_0).invokeExact(handle, CTL_WRITE | CTL_TLB_FLUSH), "uc_ctl(TLB_FLUSH)");
    }

    /** Drops every translated block; needed after the host rewrites guest code. */
    public void flushTranslationCache() {
        call(() -> (int) lib.handle(CTL_0).invokeExact(handle, CTL_WRITE | CTL_TB_FLUSH), "uc_ctl(TB_FLUSH)");
    }

    /** Drops translated blocks of guest code in {@code [begin, end)}. */
    public void removeTranslationCache(long begin, long end) {
        call(() -> (int) lib.handle(CTL_LONG_LONG).invokeExact(handle, CTL_WRITE | (2 << 26) | CTL_TB_REMOVE_CACHE,
                begin, end),
                "uc_ctl(TB_REMOVE_CACHE, 0x%x, 0x%x)", begin, end);
    }

    /**
     * {@code true}: Unicorn's UC_TLB_VIRTUAL mode, where TLB fills ask the {@link HookType#TLB_FILL} hooks (linear =
     * physical, with the access's own permission only, when there is none) instead of the CPU's page walk;
     * {@code false}: the CPU's own MMU (UC_TLB_CPU, the default). Switching flushes the TLB.
     */
    public void setVirtualTlb(boolean virtual) {
        call(() -> (int) lib.handle(CTL_INT).invokeExact(handle, CTL_WRITE | (1 << 26) | CTL_TLB_TYPE, virtual ? 1 : 0),
                "uc_ctl(TLB_TYPE, %d)", virtual ? 1 : 0);
    }

    /** Selects the emulated CPU ({@code uc_cpu_x86}); only before the first emulation. */
    public void setCpuModel(int model) {
        call(() -> (int) lib.handle(CTL_INT).invokeExact(handle, CTL_WRITE | (1 << 26) | CTL_CPU_MODEL, model),
                "uc_ctl(CPU_MODEL, %d)", model);
    }

    public int cpuModel() {
        call(() -> (int) lib.handle(CTL_PTR).invokeExact(handle, CTL_READ | (1 << 26) | CTL_CPU_MODEL, scratch),
                "uc_ctl(get CPU_MODEL)");
        return scratch.get(JAVA_INT, 0);
    }

    /** Stops emulation when RIP reaches any of {@code exits} (replaces the {@code until} argument). */
    public void setExits(long... exits) {
        call(() -> (int) lib.handle(CTL_INT).invokeExact(handle, CTL_WRITE | (1 << 26) | CTL_USE_EXITS, 1),
                "uc_ctl(USE_EXITS)");
        try (Arena local = Arena.ofConfined()) {
            MemorySegment array = local.allocate(JAVA_LONG, Math.max(1, exits.length));
            MemorySegment.copy(exits, 0, array, JAVA_LONG, 0, exits.length);
            call(() -> (int) lib.handle(CTL_PTR_LONG).invokeExact(handle, CTL_WRITE | (2 << 26) | CTL_EXITS, array,
                    (long) exits.length), "uc_ctl(EXITS, %d exits)", exits.length);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        call(() -> (int) lib.handle(CLOSE).invokeExact(handle), "uc_close()");
        hooks.forEach(HookHandle::releaseWithEngine);
        List.copyOf(mmioRegions).forEach(MmioRegion::releaseWithEngine);
        mmioRegions.clear();
        if (hookDeletionState != null) {
            hookDeletionState.close();
        }
    }

    // ---- errors -------------------------------------------------------------------------

    @FunctionalInterface
    private interface NativeCall {
        int invoke() throws Throwable;
    }

    private void call(NativeCall nativeCall, String format, Object... args) {
        int err;
        try {
            err = nativeCall.invoke();
        } catch (Throwable t) {
            throw new UnicornException(String.format(format, args) + " failed", t);
        }
        if (err != 0) {
            check(lib, err, String.format(format, args));
        }
    }

    private static void check(UnicornNative lib, int err, String callText) {
        if (err == 0) {
            return;
        }
        throw new UnicornException(UcError.of(err), strerror(lib, err), callText);
    }

    private static String strerror(UnicornNative lib, int err) {
        try {
            MemorySegment message = (MemorySegment) lib.handle(STRERROR).invokeExact(err);
            return message.reinterpret(512).getString(0);
        } catch (Throwable t) {
            return "uc_strerror unavailable";
        }
    }
}
