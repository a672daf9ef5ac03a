package dev.kemu.kernel.mm;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.kemu.kernel.mm.MmLayout.*;

/**
 * Proves the address spaces consistent: each space's kernel half is the kernel's, every user
 * page lies in one of its VMAs and is an anonymous frame or the zero page, a writable entry maps
 * a frame nobody else maps (else one space's write would show in another), and every anonymous
 * frame's reference count is the number of entries that map it; an anonymous frame no entry maps
 * is a leak.
 */
public final class SpaceChecker {
    private SpaceChecker() {}

    /** The PML4 of every space on the list in guest RAM (for the page-table checker's reachability). */
    static List<PhysAddr> pml4s(AddressSpaces spaces) {
        return spaces.all().stream().map(AddressSpace::pml4).toList();
    }

    public static List<String> check(MmRoot root, AddressSpaces spaces) {
        List<String> problems = new ArrayList<>();
        GuestRam ram = root.ram();
        FrameTable frames = FrameTable.of(root);
        long kernel = root.pml4().value();
        long zeroPage = root.get(ROOT_ZERO_PAGE);
        Map<Long, Integer> references = new HashMap<>();
        for (AddressSpace space : spaces.all()) {
            long pml4 = space.pml4().value();
            if (pml4 + PAGE > ram.size() || frames.type(pml4 / PAGE) != FrameType.PAGE_TABLE) {
                problems.add(String.format("%s: its PML4 is not a page-table frame of RAM", space));
                continue;
            }
            for (int i = KERNEL_HALF_FIRST; i < 512; i++) {
                long mine = ram.read64(pml4 + i * 8L), kernels = ram.read64(kernel + i * 8L);
                if (mine != kernels) {
                    problems.add(String.format("%s: kernel-half PML4 entry %d is 0x%x, the kernel's is 0x%x", space, i,
                            mine, kernels));
                }
            }
            List<SpaceVma> vmas = spaces.vmas(space);
            for (int i = 1; i < vmas.size(); i++) {
                if (vmas.get(i - 1).end().compareTo(vmas.get(i).start()) > 0) {
                    problems.add(String.format("%s: VMAs %s and %s overlap or are out of order", space, vmas.get(i - 1),
                            vmas.get(i)));
                }
            }
            for (int i = 0; i < KERNEL_HALF_FIRST; i++) {
                PageTableEntry entry = new PageTableEntry(ram.read64(pml4 + i * 8L));
                if (entry.present()) {
                    leaves(ram, entry.address().value(), 3, (long) i << 39, (va, leaf, level) -> {
                        String where = String.format("%s: V0x%x", space, va);
                        if (level != 1) {
                            problems.add(where + " is mapped by a huge page; spaces map 4 KiB pages only");
                            return;
                        }
                        if (vmas.stream().noneMatch(v -> v.contains(VirtAddr.of(va)))) {
                            problems.add(where + " is mapped but in no VMA of the space");
                        }
                        long frame = leaf.address().value();
                        if (frame == zeroPage && zeroPage != 0) {
                            if (leaf.writable()) {
                                problems.add(where + " maps the zero page writable");
                            }
                            return;
                        }
                        if (frame + PAGE > ram.size() || frames.type(frame / PAGE) != FrameType.ANONYMOUS) {
                            problems.add(String.format("%s maps P0x%x, which is not an anonymous frame", where, frame));
                            return;
                        }
                        references.merge(frame / PAGE, 1, Integer::sum);
                        if (leaf.writable() && frames.tag(frame / PAGE) != 1) {
                            problems.add(String.format("%s maps P0x%x writable while its reference count is %d", where,
                                    frame, frames.tag(frame / PAGE)));
                        }
                    }, problems);
                }
            }
        }
        for (long pfn = 0; pfn < frames.frames(); pfn++) {
            if (frames.typeCode(pfn) == FrameType.ANONYMOUS.ordinal()) {
                int counted = references.getOrDefault(pfn, 0);
                if (counted == 0) {
                    problems.add(String.format("anonymous frame P0x%x is mapped by no space (leaked)", pfn * PAGE));
                } else if (frames.tag(pfn) != counted) {
                    problems.add(String.format("anonymous frame P0x%x counts %d references, %d entries map it",
                            pfn * PAGE, frames.tag(pfn), counted));
                }
            }
        }
        return problems;
    }

    @FunctionalInterface
    private interface LeafVisitor {
        void leaf(long va, PageTableEntry entry, int level);
    }

    private static void leaves(GuestRam ram, long table, int level, long vaBase, LeafVisitor visitor, List<String> problems) {
        if (table + PAGE > ram.size()) {
            problems.add(String.format("a user-half table for V0x%x is at P0x%x, outside RAM", vaBase, table));
            return;
        }
        long span = 1L << (12 + 9 * (level - 1));
        for (int i = 0; i < 512; i++) {
            PageTableEntry entry = new PageTableEntry(ram.read64(table + i * 8L));
            if (!entry.present()) {
                continue;
            }
            long va = vaBase + i * span;
            if (level == 1 || entry.huge()) {
                visitor.leaf(va, entry, level);
            } else {
                leaves(ram, entry.address().value(), level - 1, va, visitor, problems);
            }
        }
    }
}
