/* IDT gates for the test kernels as the SDM lays them out (Vol. 3A 6.11 and 6.14.1): ring-0 gates into
 * KERNEL_CODE, 8-byte ones for protected mode and 16-byte ones for long mode, and lidt. Builds with -m32
 * and -m64 (the IDTR base is pointer-sized). */
#ifndef TESTKERNEL_IDT_H
#define TESTKERNEL_IDT_H

#include <stdint.h>

#define KERNEL_CODE 0x08
#define INTERRUPT_GATE 0x8e /* present, DPL 0, interrupt gate: IF cleared on entry */
#define TRAP_GATE 0x8f      /* present, DPL 0, trap gate: IF left as it was */

struct gate32 {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attributes;
    uint16_t offset_high;
} __attribute__((packed));

struct gate64 {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uintptr_t base;
} __attribute__((packed));

/* A 32-bit gate of type (INTERRUPT_GATE or TRAP_GATE) to handler. */
static inline struct gate32 gate32(uint32_t handler, uint8_t type) {
    return (struct gate32) {(uint16_t) handler, KERNEL_CODE, 0, type, (uint16_t) (handler >> 16)};
}

/* A 64-bit gate of type to handler, on the current stack (IST 0). */
static inline struct gate64 gate64(uint64_t handler, uint8_t type) {
    return (struct gate64) {(uint16_t) handler, KERNEL_CODE, 0, type, (uint16_t) (handler >> 16),
                            (uint32_t) (handler >> 32), 0};
}

/* Makes the bytes of gates at idt the IDT. */
static inline void load_idt(const void *idt, uint32_t bytes) {
    struct idt_pointer pointer = {(uint16_t) (bytes - 1), (uintptr_t) idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
}

#endif
