package dev.kemu.boot.limine;

import dev.kemu.boot.AcpiRsdp;
import dev.kemu.boot.FirmwareWords;
import dev.kemu.boot.MemoryMapEntry;
import dev.kemu.boot.MultibootInfo;
import dev.kemu.elf.ElfImage;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Answers a Limine kernel's requests (PROTOCOL.md, "Feature List"): each response in bootloader-reclaimable memory,
 * its address (an HHDM pointer, like every pointer in a response) written to the request's {@code response}
 * member. Requests kemu does not answer keep their pointer untouched and are listed in one note; so is a base
 * revision kemu does not support, whose tag kemu leaves unchanged, as the protocol says.
 *
 * <pre>
 *   bootloader info   u64 revision, char *name, char *version
 *   firmware type     u64 revision, u64 firmware_type (0: x86 BIOS)
 *   stack size        u64 revision
 *   HHDM              u64 revision, u64 offset
 *   paging mode       u64 revision, u64 mode (0: 4-level)
 *   memory map        u64 revision, u64 entry_count, entry **entries; entry: u64 base, u64 length, u64 type
 *   entry point       u64 revision
 *   kernel file       u64 revision, struct limine_file *kernel_file
 *   module            u64 revision (0: internal modules not honoured), u64 module_count, limine_file **modules
 *   RSDP              u64 revision, void *address
 *   kernel address    u64 revision, u64 physical_base, u64 virtual_base
 *   SMP               see LimineSmp (the APs are started and parked by kemu's firmware before the entry)
 *   limine_file       u64 revision, void *address, u64 size, char *path, char *cmdline, u32 media_type,
 *                     u32 unused, u32 tftp_ip, u32 tftp_port, u32 partition_index, u32 mbr_disk_id,
 *                     3 x 16-byte UUIDs (112 bytes, all zero after cmdline: kemu loads from no disk)
 * </pre>
 */
final class LimineResponses {
    static final String NAME = "kemu";
    static final String VERSION = MultibootInfo.LOADER_NAME.substring("kemu ".length());
    private static final int FILE_BYTES = 112, MEMMAP_ENTRY_BYTES = 24;

    private LimineResponses() {}

    static List<String> answer(LimineKernel kernel, GuestRam ram, ReclaimableArena arena, LimineFiles files,
                               List<MemoryMapEntry> pc, ElfImage firmware, int cpus, long stackSize) {
        List<String> notes = new ArrayList<>();
        kernel.requests().baseRevision().ifPresent(tag -> {
            if (tag.revision() <= LimineKernel.MAX_BASE_REVISION) {
                ram.write64(kernel.physical(tag.address()) + 16, 0); // supported: the third quad becomes 0
            } else {
                notes.add(String.format("Limine: the kernel asks for base revision %d; kemu supports revisions 0 to "
                        + "%d and boots it as revision %d, leaving the tag unchanged as the protocol says",
                        tag.revision(), LimineKernel.MAX_BASE_REVISION, LimineKernel.MAX_BASE_REVISION));
            }
        });
        int capacity = pc.size() + 8; // every carved range splits at most one usable entry in two
        PhysAddr memmapStorage = arena.allocate(24 + capacity * (8L + MEMMAP_ENTRY_BYTES), 8);
        List<String> unanswered = new ArrayList<>();
        Optional<LimineRequest> memmapRequest = Optional.empty();
        for (LimineRequest request : kernel.requests().requests()) {
            Optional<PhysAddr> response = request.feature().isEmpty() ? Optional.empty() : switch (request.feature().get()) {
                case BOOTLOADER_INFO -> Optional.of(quads(ram, arena, 0, arena.string(NAME).value(),
                        arena.string(VERSION).value()));
                case FIRMWARE_TYPE -> Optional.of(quads(ram, arena, 0, 0));
                case STACK_SIZE, ENTRY_POINT -> Optional.of(quads(ram, arena, 0));
                case HHDM -> Optional.of(quads(ram, arena, 0, LimineKernel.HHDM_OFFSET));
                case PAGING_MODE -> {
                    if (request.member(0) != 0) {
                        notes.add("Limine: the kernel prefers 5-level paging (mode " + request.member(0) + "); kemu "
                                + "gives 4-level paging (response mode 0)");
                    }
                    yield Optional.of(quads(ram, arena, 0, 0));
                }
                case KERNEL_ADDRESS -> Optional.of(quads(ram, arena, 0, LimineKernel.PHYSICAL_BASE,
                        kernel.virtualBase()));
                case KERNEL_FILE -> Optional.of(quads(ram, arena, 0,
                        file(ram, arena, files.kernelFile().orElseThrow()).value()));
                case MODULE -> {
                    if (request.revision() >= 1 && request.member(0) > 0) {
                        notes.add("Limine: the module request lists " + request.member(0) + " internal modules; kemu "
                                + "loads only --module files (module response revision 0: internal modules not "
                                + "honoured)");
                    }
                    PhysAddr array = arena.allocate(8L * Math.max(1, files.modules().size()), 8);
                    for (int i = 0; i < files.modules().size(); i++) {
                        ram.write64(array.value() + 8L * i, file(ram, arena, files.modules().get(i)).value());
                    }
                    yield Optional.of(quads(ram, arena, 0, files.modules().size(), arena.virtual(array).value()));
                }
                case SMP -> {
                    LimineSmp.Answer smp = LimineSmp.answer(ram, arena, cpus, stackSize, request.member(0));
                    FirmwareWords.limineApStart(ram, firmware, smp.apTable(), smp.apCount());
                    notes.addAll(smp.notes());
                    yield Optional.of(smp.response());
                }
                case RSDP -> AcpiRsdp.rsdpAddress(ram).map(rsdp -> quads(ram, arena, 0, arena.virtual(rsdp).value()));
                case MEMORY_MAP -> {
                    memmapRequest = Optional.of(request);
                    yield Optional.empty();
                }
                default -> Optional.empty();
            };
            if (response.isPresent()) {
                ram.write64(kernel.physical(request.address()) + LimineRequest.RESPONSE_OFFSET,
                        arena.virtual(response.get()).value());
            } else if (!request.feature().map(f -> f == LimineFeature.MEMORY_MAP).orElse(false)) {
                unanswered.add(request.describe());
            }
        }
        // Last: the map lists the reclaimable memory, which ends only after every other allocation.
        List<LimineMemoryMap.Entry> map = LimineMemoryMap.of(pc, List.of(
                new LimineMemoryMap.Entry(firmware.physicalStart(), ReclaimableArena.align(firmware.physicalEnd(),
                        ReclaimableArena.PAGE) - firmware.physicalStart(), LimineMemoryMap.Type.BOOTLOADER_RECLAIMABLE),
                new LimineMemoryMap.Entry(LimineKernel.PHYSICAL_BASE, arena.start().value() - LimineKernel.PHYSICAL_BASE,
                        LimineMemoryMap.Type.KERNEL_AND_MODULES),
                new LimineMemoryMap.Entry(arena.start().value(), arena.end().value() - arena.start().value(),
                        LimineMemoryMap.Type.BOOTLOADER_RECLAIMABLE)));
        if (map.size() > capacity) {
            throw new IllegalStateException("Limine memory map of " + map.size() + " entries exceeds its " + capacity
                    + " reserved slots: " + map);
        }
        memmapRequest.ifPresent(request -> {
            long response = memmapStorage.value(), pointers = response + 24, entries = pointers + 8L * capacity;
            ram.write64(response, 0);
            ram.write64(response + 8, map.size());
            ram.write64(response + 16, arena.virtual(PhysAddr.of(pointers)).value());
            for (int i = 0; i < map.size(); i++) {
                long entry = entries + (long) i * MEMMAP_ENTRY_BYTES;
                ram.write64(pointers + 8L * i, arena.virtual(PhysAddr.of(entry)).value());
                ram.write64(entry, map.get(i).base());
                ram.write64(entry + 8, map.get(i).length());
                ram.write64(entry + 16, map.get(i).type().number());
            }
            ram.write64(kernel.physical(request.address()) + LimineRequest.RESPONSE_OFFSET,
                    arena.virtual(memmapStorage).value());
        });
        if (!unanswered.isEmpty()) {
            notes.add("Limine: unanswered requests (response left untouched): " + String.join(", ", unanswered));
        }
        return notes;
    }

    /** A response of consecutive quads; returns its physical address. */
    private static PhysAddr quads(GuestRam ram, ReclaimableArena arena, long... values) {
        PhysAddr at = arena.allocate(8L * values.length, 8);
        for (int i = 0; i < values.length; i++) {
            ram.write64(at.value() + 8L * i, values[i]);
        }
        return at;
    }

    /** A {@code struct limine_file}; returns its HHDM address. */
    private static VirtAddr file(GuestRam ram, ReclaimableArena arena, LimineFiles.LoadedFile file) {
        long path = arena.string(file.path()).value(), cmdline = arena.string(file.commandLine()).value();
        PhysAddr at = arena.allocate(FILE_BYTES, 8);
        ram.write64(at.value(), 0);
        ram.write64(at.value() + 8, arena.virtual(file.address()).value());
        ram.write64(at.value() + 16, file.size());
        ram.write64(at.value() + 24, path);
        ram.write64(at.value() + 32, cmdline);
        return arena.virtual(at);
    }
}
