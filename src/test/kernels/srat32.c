/* A 32-bit Multiboot kernel that reads the ACPI SRAT as Linux's acpi_numa_init does (RSDP scan of the EBDA and
 * 0xE0000-0xFFFFF, RSDT, the table signed "SRAT") and prints its enabled entries: each Processor Local APIC
 * Affinity (APIC ID, proximity domain) and each Memory Affinity (domain, base, length), then exits with code 0.
 * Disabled entries are left out: QEMU pads the table with zeroed memory entries (flags 0) that kemu does not
 * write, and Linux ignores them too. */
#include "acpi32.h"

static uint64_t u64(const uint8_t *p) {
    return u32(p) | (uint64_t) u32(p + 4) << 32;
}

static void report_srat(const uint8_t *srat) {
    uint32_t length = u32(srat + 4);
    put_str(BOTH, "srat32: SRAT checksum ");
    put_str(BOTH, sums_to_zero(srat, length) ? "ok" : "BAD");
    put_str(BOTH, ", revision ");
    put_dec(BOTH, srat[8]);
    put_str(BOTH, "\n");
    for (const uint8_t *e = srat + 48; e + 2 <= srat + length && e[1] >= 2; e += e[1]) {
        if (e[0] == 0 && (u32(e + 4) & 1)) {
            put_str(BOTH, "srat32: cpu apic ");
            put_dec(BOTH, e[3]);
            put_str(BOTH, " node ");
            put_dec(BOTH, e[2] | e[9] << 8 | e[10] << 16 | (uint32_t) e[11] << 24);
            put_str(BOTH, "\n");
        } else if (e[0] == 1 && (u32(e + 28) & 1)) {
            put_str(BOTH, "srat32: memory node ");
            put_dec(BOTH, u32(e + 2));
            put_str(BOTH, " base ");
            put_hex(BOTH, u64(e + 8));
            put_str(BOTH, " length ");
            put_hex(BOTH, u64(e + 16));
            put_str(BOTH, " flags ");
            put_hex(BOTH, u32(e + 28));
            put_str(BOTH, "\n");
        }
    }
}

void kernel_main(void) {
    serial_init();
    const uint8_t *rsdp = find_rsdp();
    if (!rsdp) {
        put_str(BOTH, "srat32: no RSDP found\n");
        debug_exit(1);
    }
    const uint8_t *rsdt = (const uint8_t *) (uintptr_t) u32(rsdp + 16);
    int found = 0;
    for (uint32_t at = 36; at < u32(rsdt + 4); at += 4) {
        const uint8_t *table = (const uint8_t *) (uintptr_t) u32(rsdt + at);
        if (table[0] == 'S' && table[1] == 'R' && table[2] == 'A' && table[3] == 'T') {
            report_srat(table);
            found = 1;
        }
    }
    if (!found) {
        put_str(BOTH, "srat32: no SRAT: one NUMA node\n");
    }
    debug_exit(0);
}
