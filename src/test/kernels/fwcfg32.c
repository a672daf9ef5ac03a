/* A 32-bit Multiboot kernel that reports how it finds its CPUs, as a kernel written against QEMU does:
 * fw_cfg (signature, CPU count, RAM size) and the ACPI MADT (RSDP scan of the EBDA and 0xE0000-0xFFFFF,
 * RSDT, then the local APICs, the IOAPIC and the interrupt source overrides). Prints on both consoles,
 * then exits with code 0. Only facts both QEMU+SeaBIOS and kemu define alike are printed (not the RSDP
 * revision, the fw_cfg ID's DMA bit or its file list, which differ by design). */
#include "acpi32.h"

#define FW_CFG_SELECT 0x510
#define FW_CFG_DATA 0x511

static inline void outw(uint16_t port, uint16_t value) { __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }

static uint64_t fw_cfg_read(uint16_t key, int bytes) {
    uint64_t value = 0;
    outw(FW_CFG_SELECT, key);
    for (int i = 0; i < bytes; i++) {
        value |= (uint64_t) inb(FW_CFG_DATA) << (8 * i);
    }
    return value;
}

static void report_madt(const uint8_t *madt) {
    uint32_t length = u32(madt + 4), lapics = 0;
    put_str(BOTH, "fwcfg32: MADT checksum ");
    put_str(BOTH, sums_to_zero(madt, length) ? "ok" : "BAD");
    put_str(BOTH, ", local APIC at ");
    put_hex(BOTH, u32(madt + 36));
    put_str(BOTH, "\n");
    for (const uint8_t *e = madt + 44; e < madt + length && e[1] >= 2; e += e[1]) {
        if (e[0] == 0 && (u32(e + 4) & 1)) {
            lapics++;
        } else if (e[0] == 1) {
            put_str(BOTH, "fwcfg32: IOAPIC id ");
            put_dec(BOTH, e[2]);
            put_str(BOTH, " at ");
            put_hex(BOTH, u32(e + 4));
            put_str(BOTH, " gsi base ");
            put_dec(BOTH, u32(e + 8));
            put_str(BOTH, "\n");
        } else if (e[0] == 2) {
            put_str(BOTH, "fwcfg32: override irq ");
            put_dec(BOTH, e[3]);
            put_str(BOTH, " -> gsi ");
            put_dec(BOTH, u32(e + 4));
            put_str(BOTH, " flags ");
            put_hex(BOTH, e[8] | e[9] << 8);
            put_str(BOTH, "\n");
        }
    }
    put_str(BOTH, "fwcfg32: MADT lists ");
    put_dec(BOTH, lapics);
    put_str(BOTH, " enabled local APICs\n");
}

void kernel_main(void) {
    serial_init();
    uint64_t signature = fw_cfg_read(0x0000, 4);
    put_str(BOTH, "fwcfg32: signature ");
    for (int i = 0; i < 4; i++) {
        put_char(BOTH, (char) (signature >> (8 * i)));
    }
    put_str(BOTH, ", traditional interface ");
    put_dec(BOTH, fw_cfg_read(0x0001, 4) & 1);
    put_str(BOTH, "\nfwcfg32: fw_cfg CPUs ");
    put_dec(BOTH, fw_cfg_read(0x0005, 2));
    put_str(BOTH, ", RAM ");
    put_dec(BOTH, fw_cfg_read(0x0003, 8) >> 20);
    put_str(BOTH, " MiB\n");

    const uint8_t *rsdp = find_rsdp();
    if (!rsdp) {
        put_str(BOTH, "fwcfg32: no RSDP found\n");
        debug_exit(1);
    }
    const uint8_t *rsdt = (const uint8_t *) (uintptr_t) u32(rsdp + 16);
    put_str(BOTH, "fwcfg32: RSDT checksum ");
    put_str(BOTH, sums_to_zero(rsdt, u32(rsdt + 4)) ? "ok" : "BAD");
    put_str(BOTH, "\n");
    for (uint32_t at = 36; at < u32(rsdt + 4); at += 4) {
        const uint8_t *table = (const uint8_t *) (uintptr_t) u32(rsdt + at);
        if (table[0] == 'A' && table[1] == 'P' && table[2] == 'I' && table[3] == 'C') {
            report_madt(table);
        }
    }
    debug_exit(0);
}
