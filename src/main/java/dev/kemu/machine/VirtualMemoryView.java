package dev.kemu.machine;

import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * Guest-virtual memory as the CPU sees it right now: addresses are translated in the CPU's
 * current paging mode (CR0.PG, CR4.PAE, EFER.LMA, CR4.LA57; identity while paging is off) with its
 * CR3 by the machine's one page walker, then read from or written to guest RAM directly, without a
 * native call per byte.
 */
public final class VirtualMemoryView {
    private static final int PAGE = 4096;
    private static final PagingMode NO_PAGING = PagingMode.hostView(0, 0, 0);

    private final Unicorn engine;
    private final GuestRam ram;
    private final PageWalker walker;

    VirtualMemoryView(Unicorn engine, GuestRam ram, PageWalker walker) {
        this.engine = engine;
        this.ram = ram;
        this.walker = walker;
    }

    /** The CPU's paging mode and the controls that decide what its tables mean ({@link PagingMode#hostView}). */
    public PagingMode mode() {
        long cr0 = engine.regRead(X86Reg.CR0);
        if ((cr0 & CpuState.CR0_PG) == 0) {
            return NO_PAGING;
        }
        return PagingMode.hostView(cr0, engine.regRead(X86Reg.CR4), engine.readMsr(X86Reg.MSR_EFER));
    }

    /** The physical address behind {@code address}, or -1 when it is not mapped or outside RAM. */
    public long physical(long address) {
        PagingMode mode = mode();
        long physical = mode.format() == PagingFormat.NONE ? address
                : walker.translate(engine.regRead(X86Reg.CR3), address, mode);
        return physical >= 0 && ram.contains(physical, 1) ? physical : -1;
    }

    /** Up to {@code length} bytes at {@code address}, fewer if an unmapped page ends them. */
    public byte[] read(long address, int length) {
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < length) {
            long physical = physical(address + done);
            if (physical < 0) {
                return Arrays.copyOf(bytes, done);
            }
            // One translation per page, not per byte.
            int chunk = (int) Math.min(length - done, Math.min(PAGE - (physical & 0xfff), ram.size() - physical));
            System.arraycopy(ram.read(physical, chunk), 0, bytes, done, chunk);
            done += chunk;
        }
        return bytes;
    }

    /** The 8 bytes at {@code address}, or empty when any of them is not mapped. */
    public OptionalLong read64(long address) {
        byte[] bytes = read(address, 8);
        return bytes.length < 8 ? OptionalLong.empty()
                : OptionalLong.of(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    /** Writes 8 bytes at {@code address} if the page tables allow a write there; false otherwise. */
    public boolean write64(long address, long value) {
        long physical = address;
        PagingMode mode = mode();
        if (mode.format() != PagingFormat.NONE) {
            PageWalk walk = walker.walk(engine.regRead(X86Reg.CR3), VirtAddr.of(address), Access.SUPERVISOR_READ, mode);
            if (!walk.writable() || (address & 0xfff) > PAGE - 8) {
                return false; // unmapped, read-only, or split over two pages (not needed by its callers)
            }
            physical = walk.physical().get().value();
        }
        if (!ram.contains(physical, 8)) {
            return false;
        }
        ram.write64(physical, value);
        return true;
    }
}
