package dev.kemu.boot.limine;

import dev.kemu.boot.BootOptions;
import dev.kemu.boot.BootProtocol;
import dev.kemu.boot.BootableKernel;
import dev.kemu.boot.FirmwareWords;
import dev.kemu.boot.Handoff;
import dev.kemu.boot.ImageLoader;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.elf.ElfFormatException;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A kernel for the Limine boot protocol (PROTOCOL.md of the Limine project, base revisions 0 to 2): an x86-64 ELF64
 * linked at or above 0xffffffff80000000, with requests in its image. kemu loads it physically contiguous at
 * {@link #PHYSICAL_BASE} (the protocol guarantees no particular physical placement; see the kernel address
 * response), answers the requests it supports, and enters it in long mode through tables it builds in
 * bootloader-reclaimable memory.
 *
 * <pre>
 *   physical                          what
 *   P0x8000 .. firmware end           kemu's firmware stub                 bootloader reclaimable
 *   P0x100000 ..                      kernel, modules, kernel file copy    kernel and modules
 *   next page ..                      responses, page tables, GDT, stacks  bootloader reclaimable
 *   virtual
 *   V0x1000 .. 4 GiB                  identity map (base revisions 0-2)
 *   HHDM_OFFSET .. + 4 GiB            direct map of all memory-map entries (all below 4 GiB in kemu)
 *   the kernel's link addresses       its segments, 4 KiB pages, writable and executable as its program headers say
 * </pre>
 */
public record LimineKernel(ElfImage image, byte[] file, LimineRequests requests, long virtualBase, long entry)
        implements BootableKernel {
    /** Where kemu puts the kernel in physical memory. */
    public static final long PHYSICAL_BASE = 0x100000;
    /** The HHDM offset Limine uses with 4-level paging. */
    public static final long HHDM_OFFSET = 0xffff_8000_0000_0000L;
    /** The highest base revision kemu supports. */
    public static final long MAX_BASE_REVISION = 2;
    /** The protocol's lowest allowed kernel address. */
    public static final long KERNEL_FLOOR = 0xffff_ffff_8000_0000L;
    private static final long PAGE = 4096;
    private static final int ELF_CLASS_64 = 2;

    /** Whether {@code file} is an ELF64 with a base revision tag or a request (what auto-detection looks for). */
    public static boolean carriesRequests(Path path, byte[] file) {
        return file.length > 4 && file[4] == ELF_CLASS_64 && ElfImage.isElf(file)
                && LimineRequests.scan(path, ElfImage.parse(path, file).segments()).any();
    }

    public static LimineKernel parse(Path path, byte[] file) {
        if (!ElfImage.isElf(file) || file.length <= 4 || file[4] != ELF_CLASS_64) {
            throw new ElfFormatException(path + ": not an ELF64 file; the Limine protocol boots x86-64 ELF64 kernels "
                    + "only (link with -m elf_x86_64)");
        }
        ElfImage elf = ElfImage.parse(path, file);
        for (Segment s : elf.segments()) {
            if (Long.compareUnsigned(s.vaddr(), KERNEL_FLOOR) < 0) {
                throw new ElfFormatException(String.format("%s: segment %s is linked below 0xffffffff80000000; the "
                        + "Limine protocol loads kernels only at or above that address (lower-half kernels are not "
                        + "supported); link the kernel in the top 2 GiB", path, s));
            }
        }
        LimineRequests requests = LimineRequests.scan(path, elf.segments());
        requests.find(LimineFeature.PAGING_MODE).filter(r -> r.revision() >= 1 && r.member(2) > 0).ifPresent(r -> {
            throw new ElfFormatException(String.format("%s: the Limine paging mode request at %s has min_mode %d "
                    + "(5-level paging at least); kemu gives 4-level paging only (mode 0), so it cannot boot the "
                    + "kernel; allow min_mode 0", path, r.address(), r.member(2)));
        });
        long base = elf.segments().stream().mapToLong(Segment::vaddr).reduce((a, b) ->
                Long.compareUnsigned(a, b) <= 0 ? a : b).orElseThrow() & -PAGE;
        List<Segment> placed = elf.segments().stream().map(s -> new Segment(s.vaddr(),
                PHYSICAL_BASE + (s.vaddr() - base), s.memSize(), s.flags(), s.data())).toList();
        long entry = requests.find(LimineFeature.ENTRY_POINT).map(r -> r.member(0)).filter(e -> e != 0)
                .orElse(elf.entry());
        return new LimineKernel(new ElfImage(path, entry, placed, elf.symbols()), file, requests, base, entry);
    }

    @Override
    public BootProtocol protocol() {
        return BootProtocol.LIMINE;
    }

    /**
     * Whether kemu's firmware starts the APs and waits for them to park before the entry (an SMP request with
     * several CPUs): then the bootstrap CPU alone cannot reach the kernel entry.
     */
    public boolean startsApplicationProcessors(int cpus) {
        return cpus > 1 && requests.find(LimineFeature.SMP).isPresent();
    }

    public long physicalBase() {
        return PHYSICAL_BASE;
    }

    /** The physical address of the kernel's virtual address {@code virt}. */
    public long physical(VirtAddr virt) {
        return PHYSICAL_BASE + (virt.value() - virtualBase);
    }

    @Override
    public Handoff load(GuestRam ram, ElfImage firmware, BootOptions options) {
        ImageLoader.loadKernel(ram, this, MultibootInfo.ADDRESS, firmware.physicalEnd());
        List<MemoryMapEntry> pc = MultibootInfo.pcMemoryMap(options.ramBytes());
        long usableEnd = MultibootInfo.usableEnd(pc);
        LimineFiles files = LimineFiles.load(ram, ReclaimableArena.align(image.physicalEnd(), PAGE), usableEnd,
                options.modules(), requests.find(LimineFeature.KERNEL_FILE).isPresent() ? file : null, image.path(),
                options.commandLine());
        ReclaimableArena arena = new ReclaimableArena(ram, files.end(), usableEnd, HHDM_OFFSET);
        BootPageTables tables = new BootPageTables(ram, arena);
        mapMemory(tables);
        mapKernel(tables);
        PhysAddr gdt = LimineGdt.write(ram, arena);
        long stackSize = requests.find(LimineFeature.STACK_SIZE).map(r -> r.member(0)).filter(s -> s > 0)
                .orElse(64L * 1024);
        PhysAddr stack = arena.allocate(ReclaimableArena.align(stackSize, PAGE), PAGE);
        VirtAddr stackTop = arena.virtual(stack.plus(ReclaimableArena.align(stackSize, PAGE)));
        List<String> notes = new ArrayList<>(LimineResponses.answer(this, ram, arena, files, pc, firmware,
                options.cpus(), stackSize));
        FirmwareWords.longModeHandoff(ram, firmware, tables.pml4(), arena.virtual(gdt), LimineGdt.LIMIT, stackTop,
                VirtAddr.of(entry));
        return Handoff.longMode(entry, notes);
    }

    /** The identity map from 0x1000 and the HHDM, both of the first 4 GiB (every memory-map entry lies there). */
    private static void mapMemory(BootPageTables tables) {
        long twoMiB = 2L << 20, fourGiB = 4L << 30;
        long rwx = BootPageTables.WRITABLE;
        for (long page = PAGE; page < twoMiB; page += PAGE) {
            tables.mapPage(page, page, rwx); // page 0 stays unmapped, as the protocol's layout says
        }
        tables.mapLarge(twoMiB, twoMiB, fourGiB - twoMiB, rwx);
        tables.mapLarge(HHDM_OFFSET, 0, fourGiB, rwx);
    }

    /** The kernel's segments at their link addresses, writable and executable only as their flags say. */
    private void mapKernel(BootPageTables tables) {
        TreeMap<Long, long[]> pages = new TreeMap<>(Long::compareUnsigned);
        for (Segment s : image.segments()) {
            for (long v = s.vaddr() & -PAGE; Long.compareUnsigned(v, s.vaddr() + s.memSize()) < 0; v += PAGE) {
                long[] p = pages.computeIfAbsent(v, k -> new long[]{PHYSICAL_BASE + (k - virtualBase), 0, 0});
                p[1] |= (s.flags() & Segment.WRITE) != 0 ? 1 : 0;
                p[2] |= (s.flags() & Segment.EXECUTE) != 0 ? 1 : 0;
            }
        }
        pages.forEach((virt, p) -> tables.mapPage(virt, p[0],
                (p[1] != 0 ? BootPageTables.WRITABLE : 0) | (p[2] != 0 ? 0 : BootPageTables.NO_EXECUTE)));
    }
}
