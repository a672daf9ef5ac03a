/* ACPI table reading shared by the 32-bit kernels that look for tables as Linux does: the RSDP scan
 * (the EBDA's first KiB, then 0xE0000-0xFFFFF, on 16-byte boundaries) and the checksum and field helpers. */
#ifndef ACPI32_H
#define ACPI32_H

#include "console.h"

static inline int sums_to_zero(const uint8_t *bytes, uint32_t length) {
    uint8_t sum = 0;
    for (uint32_t i = 0; i < length; i++) {
        sum += bytes[i];
    }
    return sum == 0;
}

static inline uint32_t u32(const uint8_t *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline const uint8_t *find_rsdp_in(uint32_t from, uint32_t to) {
    for (uint32_t at = from; at < to; at += 16) {
        const char *p = (const char *) (uintptr_t) at;
        if (p[0] == 'R' && p[1] == 'S' && p[2] == 'D' && p[3] == ' ' && p[4] == 'P' && p[5] == 'T' && p[6] == 'R'
                && p[7] == ' ' && sums_to_zero((const uint8_t *) p, 20)) {
            return (const uint8_t *) p;
        }
    }
    return 0;
}

/* The RSDP where a BIOS leaves it, or 0 when there is none. */
static inline const uint8_t *find_rsdp(void) {
    uint16_t ebda_segment;
    __asm__ volatile("movw 0x40e, %0" : "=r"(ebda_segment)); /* the BDA's EBDA pointer, read where gcc cannot object */
    uint32_t ebda = (uint32_t) ebda_segment << 4;
    const uint8_t *rsdp = ebda ? find_rsdp_in(ebda, ebda + 1024) : 0;
    return rsdp ? rsdp : find_rsdp_in(0xe0000, 0x100000);
}

#endif
