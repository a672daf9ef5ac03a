package dev.kemu.boot.limine;

import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;

import java.util.List;

/**
 * The answer to Limine's SMP request on x86-64 (PROTOCOL.md, "SMP (multiprocessor) Feature"): one info struct per
 * CPU, all in bootloader-reclaimable memory, and for each application processor a stack of the requested size
 * and a slot in the table kemu's firmware reads when it starts the APs before the kernel entry (firmware.S,
 * {@code fw_limine_start_aps}). CPU n has APIC ID n and ACPI processor UID n, as kemu's MADT says; the CPUs are
 * xAPIC only, so the response's x2APIC flag stays clear.
 *
 * <pre>
 *   response   u64 revision (0), u32 flags (0), u32 bsp_lapic_id, u64 cpu_count, struct limine_smp_info **cpus
 *   info       u32 processor_id, u32 lapic_id, u64 reserved, u64 goto_address, u64 extra_argument    32 bytes
 *   AP slot    u64 lapic_id, u64 info (HHDM address), u64 stack top (HHDM address)                  24 bytes
 * </pre>
 */
final class LimineSmp {
    static final int INFO_BYTES = 32, SLOT_BYTES = 24, BSP_LAPIC_ID = 0;
    /** The request's flags bit asking for x2APIC. */
    static final long FLAG_X2APIC = 1;

    /** What was written: the response, and the APs' slots for the firmware (none with one CPU). */
    record Answer(PhysAddr response, PhysAddr apTable, int apCount, List<String> notes) {}

    private LimineSmp() {}

    static Answer answer(GuestRam ram, ReclaimableArena arena, int cpus, long stackSize, long requestFlags) {
        PhysAddr response = arena.allocate(32, 8);
        PhysAddr pointers = arena.allocate(8L * cpus, 8);
        PhysAddr table = arena.allocate((long) SLOT_BYTES * Math.max(1, cpus - 1), 8);
        for (int cpu = 0; cpu < cpus; cpu++) {
            PhysAddr info = arena.allocate(INFO_BYTES, 8);
            ram.write32(info.value(), cpu); // processor_id: the MADT's ACPI processor UID
            ram.write32(info.value() + 4, cpu); // lapic_id; goto_address and extra_argument stay 0
            ram.write64(pointers.value() + 8L * cpu, arena.virtual(info).value());
            if (cpu != BSP_LAPIC_ID) {
                long stackBytes = ReclaimableArena.align(stackSize, ReclaimableArena.PAGE);
                PhysAddr stack = arena.allocate(stackBytes, ReclaimableArena.PAGE);
                long slot = table.value() + (long) SLOT_BYTES * (cpu - 1);
                ram.write64(slot, cpu);
                ram.write64(slot + 8, arena.virtual(info).value());
                ram.write64(slot + 16, arena.virtual(stack.plus(stackBytes)).value());
            }
        }
        ram.write64(response.value(), 0);
        ram.write32(response.value() + 8, 0); // flags: x2APIC not enabled
        ram.write32(response.value() + 12, BSP_LAPIC_ID);
        ram.write64(response.value() + 16, cpus);
        ram.write64(response.value() + 24, arena.virtual(pointers).value());
        List<String> notes = (requestFlags & FLAG_X2APIC) != 0
                ? List.of("Limine: the SMP request asks for x2APIC; kemu's local APICs are xAPIC only, so the "
                        + "response's x2APIC flag is clear")
                : List.of();
        return new Answer(response, table, cpus - 1, notes);
    }
}
