package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.Optional;

import static dev.kemu.kernel.mm.MmLayout.PAGE;

/**
 * The page-fault path of an address space's user half, in Linux's order: find the VMA, check the
 * access against its flags, then either fill a not-present page (a read maps the zero page, a
 * write a zeroed frame) or break copy-on-write on a present read-only page of a writable VMA (copy
 * the frame while another entry maps it, take it over when this entry is the last).
 */
final class CopyOnWrite {
    private final AddressSpaces spaces;
    private final AnonymousPages pages;
    private final GuestRam ram;

    CopyOnWrite(AddressSpaces spaces, GuestRam ram) {
        this.spaces = spaces;
        this.pages = spaces.pages();
        this.ram = ram;
    }

    SpaceFault handle(AddressSpace space, VirtAddr address, int errorCode) {
        return new SpaceFault(space.id(), address, resolve(space, address, errorCode));
    }

    private SpaceFault.Resolution resolve(AddressSpace space, VirtAddr address, int errorCode) {
        Optional<SpaceVma> found = spaces.vmaList().find(space, address);
        if (found.isEmpty()) {
            return SpaceFault.Resolution.NOT_IN_ANY_VMA;
        }
        SpaceVma vma = found.get();
        boolean write = (errorCode & PageFaultCode.WRITE) != 0;
        boolean user = (errorCode & PageFaultCode.USER) != 0;
        boolean fetch = (errorCode & PageFaultCode.FETCH) != 0;
        if ((write && !vma.writable()) || (user && (vma.flags() & PageTableEntry.USER) == 0)
                || (fetch && (vma.flags() & PageTableEntry.NO_EXECUTE) != 0)) {
            return SpaceFault.Resolution.ACCESS_DENIED;
        }
        if ((errorCode & PageFaultCode.RESERVED) != 0) {
            return SpaceFault.Resolution.ALREADY_PRESENT;
        }
        PageTables tables = spaces.tables(space);
        VirtAddr page = VirtAddr.of(address.value() & -PAGE);
        Optional<PageTableEntry> leaf = tables.leaf(page);
        if (leaf.isEmpty()) {
            return write ? fillWithFreshFrame(tables, page, vma) : fillWithZeroPage(tables, page, vma);
        }
        if (!write || leaf.get().writable()) {
            return SpaceFault.Resolution.ALREADY_PRESENT;
        }
        return breakCopyOnWrite(tables, page, vma, leaf.get().address());
    }

    private SpaceFault.Resolution fillWithFreshFrame(PageTables tables, VirtAddr page, SpaceVma vma) {
        Optional<PhysAddr> frame = pages.allocate(true);
        if (frame.isEmpty()) {
            return SpaceFault.Resolution.OUT_OF_MEMORY;
        }
        if (tables.map(page, frame.get(), PageSize.SIZE_4K, vma.flags()) != MapResult.OK) {
            pages.release(frame.get());
            return SpaceFault.Resolution.OUT_OF_MEMORY;
        }
        return SpaceFault.Resolution.ZERO_FILLED;
    }

    private SpaceFault.Resolution fillWithZeroPage(PageTables tables, VirtAddr page, SpaceVma vma) {
        Optional<PhysAddr> zero = pages.zeroPage();
        if (zero.isEmpty() || tables.map(page, zero.get(), PageSize.SIZE_4K, vma.flags() & ~PageTableEntry.WRITABLE)
                != MapResult.OK) {
            return SpaceFault.Resolution.OUT_OF_MEMORY;
        }
        return SpaceFault.Resolution.ZERO_PAGE_MAPPED;
    }

    private SpaceFault.Resolution breakCopyOnWrite(PageTables tables, VirtAddr page, SpaceVma vma, PhysAddr old) {
        boolean fromZeroPage = pages.isZeroPage(old);
        if (!fromZeroPage && pages.references(old) == 1) {
            tables.remap(page, old, vma.flags());
            return SpaceFault.Resolution.REUSED;
        }
        Optional<PhysAddr> copy = pages.allocate(fromZeroPage);
        if (copy.isEmpty()) {
            return SpaceFault.Resolution.OUT_OF_MEMORY;
        }
        if (!fromZeroPage) {
            ram.write(copy.get().value(), ram.read(old.value(), (int) PAGE));
        }
        tables.remap(page, copy.get(), vma.flags());
        pages.release(old);
        return fromZeroPage ? SpaceFault.Resolution.ZERO_FILLED : SpaceFault.Resolution.COPIED;
    }
}
