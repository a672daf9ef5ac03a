package dev.kemu.kernel.mm;

import dev.kemu.kernel.slab.SlabAllocator;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Address spaces: a PML4 whose kernel half (entries 256-511) repeats the kernel's, so the
 * kernel's tables are shared, and whose user half is private; anonymous demand-paged VMAs in
 * the user half; fork-style clones that share pages copy-on-write. A space is named by its PML4's
 * physical address, the value the guest writes to CR3. All state is in guest RAM: descriptors
 * ({@link AddressSpace}) on a list from the mm root, VMAs ({@link SpaceVmas}), page tables and
 * reference counts ({@link AnonymousPages}) in the frame table.
 *
 * <p>Kernel-half tables are never freed while a space could name them: creating a space pins
 * every table a kernel-half PML4 entry points at, and preallocates the vmalloc area's PDPT (as
 * Linux's preallocate_vmalloc_pages), so vmalloc never adds a kernel PML4 entry afterwards.
 * An entry HC_VMMAP adds later is copied into every space by {@link #syncKernelHalf}.
 */
public final class AddressSpaces {
    /** Leaf flags a space's VMA may carry; GLOBAL is refused because user pages change with CR3. */
    public static final long VMA_FLAGS = PageTableEntry.WRITABLE | PageTableEntry.USER | PageTableEntry.NO_EXECUTE
            | PageTableEntry.WRITE_THROUGH | PageTableEntry.CACHE_DISABLE;
    private static final long TABLE_FLAGS = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
    private static final PageTables.TlbFlush NO_FLUSH = () -> {};

    private final MmRoot root;
    private final GuestRam ram;
    private final BuddyAllocator buddy;
    private final SlabAllocator slabs;
    private final PageTables.TlbFlush tlb;
    private final SpaceVmas vmas;
    private final AnonymousPages pages;
    private final CopyOnWrite faults;
    private LongSupplier cr3;
    private SpaceFault lastFault;

    AddressSpaces(MmRoot root, BuddyAllocator buddy, SlabAllocator slabs, PageTables.TlbFlush tlb) {
        this.root = root;
        this.ram = root.ram();
        this.buddy = buddy;
        this.slabs = slabs;
        this.tlb = tlb;
        this.vmas = new SpaceVmas(root, slabs);
        this.pages = new AnonymousPages(buddy);
        this.faults = new CopyOnWrite(this, ram);
        this.cr3 = () -> root.pml4().value();
    }

    /**
     * Handles a #PF at {@code address} in the user half of {@code space} (error code bits as
     * {@link dev.kemu.machine.PageFaultCode}): demand fill, zero page, or copy-on-write.
     */
    public SpaceFault handleFault(AddressSpace space, VirtAddr address, int errorCode) {
        lastFault = faults.handle(space, address, errorCode);
        return lastFault;
    }

    /** The last user-half fault the handler saw, for a fault report to name (empty before the first). */
    public Optional<SpaceFault> lastFault() {
        return Optional.ofNullable(lastFault);
    }

    /** Where the CPU's CR3 is read from, to know which space is active (the kernel's until set). */
    void activeFrom(LongSupplier cr3) {
        this.cr3 = cr3;
    }

    /** Every space, newest first. */
    public List<AddressSpace> all() {
        List<AddressSpace> spaces = new ArrayList<>();
        long limit = ram.size() / AddressSpace.SIZE;
        for (long d = root.get(ROOT_SPACES); d != 0; d = new AddressSpace(root, VirtAddr.of(d)).next()) {
            if (spaces.size() > limit) {
                throw new KernelPanic("the address-space list loops: still going after " + limit + " descriptors");
            }
            spaces.add(new AddressSpace(root, VirtAddr.of(d)));
        }
        return spaces;
    }

    /** The space whose PML4 is at {@code pml4} (CR3's address bits), if any. */
    public Optional<AddressSpace> find(PhysAddr pml4) {
        long wanted = pml4.value() & PageTableEntry.ADDRESS_MASK;
        return all().stream().filter(s -> s.pml4().value() == wanted).findFirst();
    }

    /** The space CR3 selects, empty while it selects the kernel's own tables (or anything else). */
    public Optional<AddressSpace> active() {
        return root.get(ROOT_SPACES) == 0 ? Optional.empty() : find(PhysAddr.of(cr3.getAsLong()));
    }

    public List<SpaceVma> vmas(AddressSpace space) {
        return vmas.list(space);
    }

    /** The page tables of {@code space}; edits flush the TLB only when it is active (a CR3 write flushes anyway). */
    public PageTables tables(AddressSpace space) {
        boolean active = (cr3.getAsLong() & PageTableEntry.ADDRESS_MASK) == space.pml4().value();
        return new PageTables(buddy, space.pml4(), active ? tlb : NO_FLUSH);
    }

    public Optional<PhysAddr> translate(AddressSpace space, VirtAddr va) {
        return tables(space).translate(va);
    }

    AnonymousPages pages() {
        return pages;
    }

    SpaceVmas vmaList() {
        return vmas;
    }

    /** A new space with an empty user half; empty when RAM or the descriptor cache is exhausted. */
    public Optional<AddressSpace> create() {
        int cache = spaceCache();
        if (cache < 0 || !preallocateVmallocTable()) {
            return Optional.empty();
        }
        Optional<VirtAddr> descriptor = slabs.allocate(cache, true);
        if (descriptor.isEmpty()) {
            return Optional.empty();
        }
        Optional<PhysAddr> pml4 = buddy.allocate(0, FrameType.PAGE_TABLE, true);
        if (pml4.isEmpty()) {
            slabs.free(cache, descriptor.get());
            return Optional.empty();
        }
        AddressSpace space = new AddressSpace(root, descriptor.get());
        int id = root.get32(ROOT_SPACE_COUNT) + 1;
        root.set32(ROOT_SPACE_COUNT, id);
        space.initialize(pml4.get(), id);
        copyKernelHalf(pml4.get().value());
        space.setNext(root.get(ROOT_SPACES));
        root.set(ROOT_SPACES, descriptor.get().value());
        return Optional.of(space);
    }

    /** Frees every page, table, VMA node and the descriptor of {@code space}. */
    public SpaceResult destroy(AddressSpace space) {
        if (active().filter(space::equals).isPresent()) {
            return SpaceResult.ACTIVE;
        }
        PageTables tables = tables(space);
        for (SpaceVma vma : vmas.list(space)) {
            releasePages(tables, vma.start(), vma.end());
            vmas.remove(space, vma);
        }
        long pml4 = space.pml4().value();
        for (int i = 0; i < KERNEL_HALF_FIRST; i++) {
            if ((ram.read64(pml4 + i * 8L) & PageTableEntry.PRESENT) != 0) {
                throw new KernelPanic(String.format("%s still has user PML4 entry %d after its VMAs were released:"
                        + " a page outside every VMA was mapped", space, i));
            }
        }
        unlink(space);
        FreeResult freed = buddy.free(space.pml4(), 0, FrameType.PAGE_TABLE);
        if (freed != FreeResult.FREED) {
            throw new KernelPanic(String.format("the PML4 of %s could not be freed: %s", space, freed.reason()));
        }
        slabs.free(spaceCache(), space.descriptor());
        return SpaceResult.OK;
    }

    /** Adds an anonymous demand-paged VMA {@code [va, va + size)} with {@code flags}. */
    public SpaceResult map(AddressSpace space, VirtAddr va, long size, long flags) {
        SpaceResult check = checkRange(va, size);
        if (check != SpaceResult.OK) {
            return check;
        }
        if ((flags & ~VMA_FLAGS) != 0) {
            return SpaceResult.BAD_FLAGS;
        }
        if (vmas.overlaps(space, va.value(), va.value() + size)) {
            return SpaceResult.OVERLAPS;
        }
        return vmas.insert(space, va.value(), va.value() + size, flags, false) ? SpaceResult.OK : SpaceResult.OUT_OF_MEMORY;
    }

    /** Removes {@code [va, va + size)} from the space's VMAs (splitting them) and frees its pages, as munmap. */
    public SpaceResult unmap(AddressSpace space, VirtAddr va, long size) {
        SpaceResult check = checkRange(va, size);
        if (check != SpaceResult.OK) {
            return check;
        }
        VirtAddr end = va.plus(size);
        if (!vmas.splitAt(space, va) || !vmas.splitAt(space, end)) {
            return SpaceResult.OUT_OF_MEMORY;
        }
        PageTables tables = tables(space);
        for (SpaceVma vma : vmas.list(space)) {
            if (vma.start().compareTo(va) >= 0 && vma.end().compareTo(end) <= 0) {
                releasePages(tables, vma.start(), vma.end());
                vmas.remove(space, vma);
            }
        }
        return SpaceResult.OK;
    }

    /**
     * Gives {@code [va, va + size)} new flags, as mprotect: the range must lie in VMAs, which are
     * split at its ends; present pages get the flags at once, minus W where the frame is shared.
     */
    public SpaceResult protect(AddressSpace space, VirtAddr va, long size, long flags) {
        SpaceResult check = checkRange(va, size);
        if (check != SpaceResult.OK) {
            return check;
        }
        if ((flags & ~VMA_FLAGS) != 0) {
            return SpaceResult.BAD_FLAGS;
        }
        VirtAddr end = va.plus(size);
        long covered = vmas.list(space).stream().mapToLong(v -> Math.max(0, Math.min(v.end().value(), end.value())
                - Math.max(v.start().value(), va.value()))).sum();
        if (covered != size) {
            return SpaceResult.NOT_MAPPED;
        }
        if (!vmas.splitAt(space, va) || !vmas.splitAt(space, end)) {
            return SpaceResult.OUT_OF_MEMORY;
        }
        PageTables tables = tables(space);
        for (SpaceVma vma : vmas.list(space)) {
            if (vma.start().compareTo(va) >= 0 && vma.end().compareTo(end) <= 0) {
                vmas.setFlags(vma, flags);
                forEachPage(tables, vma.start(), vma.end(), (page, entry) -> tables.remap(page, entry.address(),
                        shared(entry.address()) ? flags & ~PageTableEntry.WRITABLE : flags));
            }
        }
        return SpaceResult.OK;
    }

    /**
     * A fork-style copy of {@code parent}: the same VMAs, every present page shared, writable
     * ones made read-only in both and their VMAs marked copy-on-write. Empty when RAM ran out
     * (the partial child is destroyed; parent pages already made read-only stay so, which costs
     * only a fault that takes them back).
     */
    public Optional<AddressSpace> clone(AddressSpace parent) {
        Optional<AddressSpace> created = create();
        if (created.isEmpty()) {
            return created;
        }
        AddressSpace child = created.get();
        // The parent's edits flush once at the end; the child is not in CR3, so its edits need none.
        PageTables from = new PageTables(buddy, parent.pml4(), NO_FLUSH);
        PageTables to = new PageTables(buddy, child.pml4(), NO_FLUSH);
        boolean complete = true;
        for (SpaceVma vma : vmas.list(parent)) {
            if (!vmas.insert(child, vma.start().value(), vma.end().value(), vma.flags(), vma.writable())) {
                complete = false;
                break;
            }
            if (vma.writable()) {
                vmas.markCopyOnWrite(vma);
            }
            long readOnly = vma.flags() & ~PageTableEntry.WRITABLE;
            complete = forEachPage(from, vma.start(), vma.end(), (page, entry) -> {
                if (to.map(page, entry.address(), PageSize.SIZE_4K, readOnly) != MapResult.OK) {
                    return MapResult.OUT_OF_MEMORY;
                }
                pages.share(entry.address());
                return entry.writable() ? from.remap(page, entry.address(), readOnly) : MapResult.OK;
            });
            if (!complete) {
                break;
            }
        }
        if (active().filter(parent::equals).isPresent()) {
            tlb.flush();
        }
        if (!complete) {
            destroy(child);
            return Optional.empty();
        }
        return Optional.of(child);
    }

    /**
     * Copies kernel-half PML4 entries the kernel added since the spaces were made (HC_VMMAP of a
     * new kernel range) into every space, and pins the tables they point at.
     */
    public void syncKernelHalf() {
        if (root.get(ROOT_SPACES) == 0) {
            return;
        }
        pinKernelHalf();
        for (AddressSpace space : all()) {
            copyKernelHalf(space.pml4().value());
        }
    }

    /** True when {@code frame} is mapped by more than one entry, or is the zero page: a write must copy. */
    boolean shared(PhysAddr frame) {
        return pages.isZeroPage(frame) || pages.references(frame) > 1;
    }

    private void copyKernelHalf(long pml4) {
        long kernel = root.pml4().value();
        int present = 0;
        for (int i = KERNEL_HALF_FIRST; i < 512; i++) {
            ram.write64(pml4 + i * 8L, ram.read64(kernel + i * 8L));
        }
        for (int i = 0; i < 512; i++) {
            present += (ram.read64(pml4 + i * 8L) & PageTableEntry.PRESENT) != 0 ? 1 : 0;
        }
        buddy.frames().setTag(pml4 / PAGE, present);
    }

    private void pinKernelHalf() {
        long kernel = root.pml4().value();
        for (int i = KERNEL_HALF_FIRST; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(kernel + i * 8L));
            if (entry.present() && !entry.huge() && entry.address().value() + PAGE <= ram.size()) {
                buddy.frames().pin(entry.address().value() / PAGE);
            }
        }
    }

    /** The vmalloc range's PDPT exists and is pinned before any space copies the kernel half. */
    private boolean preallocateVmallocTable() {
        long kernel = root.pml4().value();
        long slot = kernel + VirtAddr.of(root.vmallocStart().value()).index(4) * 8L;
        if ((ram.read64(slot) & PageTableEntry.PRESENT) == 0) {
            Optional<PhysAddr> pdpt = buddy.allocate(0, FrameType.PAGE_TABLE, true);
            if (pdpt.isEmpty()) {
                return false;
            }
            ram.write64(slot, pdpt.get().value() | TABLE_FLAGS);
            buddy.frames().setTag(kernel / PAGE, buddy.frames().tag(kernel / PAGE) + 1);
        }
        pinKernelHalf();
        return true;
    }

    /** The mm_space cache id, created on first use; -1 when it could not be. */
    private int spaceCache() {
        int stored = root.get32(ROOT_SPACE_CACHE);
        if (stored != 0) {
            return stored - 1;
        }
        Optional<Integer> id = slabs.create("mm_space", AddressSpace.SIZE, 8, null);
        id.ifPresent(i -> root.set32(ROOT_SPACE_CACHE, i + 1));
        return id.orElse(-1);
    }

    /** The id of the mm_space cache, or empty before the first space was created. */
    public Optional<Integer> descriptorCache() {
        int stored = root.get32(ROOT_SPACE_CACHE);
        return stored == 0 ? Optional.empty() : Optional.of(stored - 1);
    }

    private void unlink(AddressSpace space) {
        long target = space.descriptor().value();
        if (root.get(ROOT_SPACES) == target) {
            root.set(ROOT_SPACES, space.next());
            return;
        }
        for (AddressSpace at : all()) {
            if (at.next() == target) {
                at.setNext(space.next());
                return;
            }
        }
        throw new KernelPanic(space + " is not on the address-space list");
    }

    private void releasePages(PageTables tables, VirtAddr start, VirtAddr end) {
        for (VirtAddr page = tables.nextMaybeMapped(start, end); !page.equals(end);
             page = tables.nextMaybeMapped(page.plus(PAGE), end)) {
            tables.unmap(page, PageSize.SIZE_4K).ifPresent(pages::release);
        }
    }

    /** What to do with one present page; anything but OK stops the walk. */
    @FunctionalInterface
    interface PageAction {
        MapResult apply(VirtAddr page, PageTableEntry entry);
    }

    /** Applies {@code action} to every present 4 KiB page in {@code [start, end)}; false when one failed. */
    static boolean forEachPage(PageTables tables, VirtAddr start, VirtAddr end, PageAction action) {
        for (VirtAddr page = tables.nextMaybeMapped(start, end); !page.equals(end);
             page = tables.nextMaybeMapped(page.plus(PAGE), end)) {
            Optional<PageTableEntry> leaf = tables.leaf(page);
            if (leaf.isPresent() && action.apply(page, leaf.get()) != MapResult.OK) {
                return false;
            }
        }
        return true;
    }

    private static SpaceResult checkRange(VirtAddr va, long size) {
        long start = va.value();
        if (size <= 0 || ((start | size) & (PAGE - 1)) != 0 || Long.compareUnsigned(start, PAGE) < 0
                || Long.compareUnsigned(start, USER_END) >= 0 || size > USER_END - start) {
            return SpaceResult.BAD_RANGE;
        }
        return SpaceResult.OK;
    }
}
