/* Timer interrupts for the 32-bit kernels: an IDT of 32-bit interrupt gates, the 8259A pair remapped with
 * IRQ0 alone unmasked, and PIT channel 0 in mode 2. */
#ifndef PIC32_H
#define PIC32_H

#include "console.h"
#include "idt.h"

#define PIT_HZ 1193182

/* Points IDT[vector] at handler (ring-0 interrupt gate, selector 0x08) and loads the 256-entry IDT. */
static inline void load_timer_gate(struct gate32 *idt, uint32_t vector, void (*handler)(void)) {
    idt[vector] = gate32((uint32_t) handler, INTERRUPT_GATE);
    load_idt(idt, 256 * sizeof *idt);
}

/* Master at vector base, slave at base + 8, IRQ0 the only line unmasked. */
static inline void remap_pic(uint8_t base) {
    outb(0x20, 0x11), outb(0xa0, 0x11);
    outb(0x21, base), outb(0xa1, base + 8);
    outb(0x21, 0x04), outb(0xa1, 0x02);
    outb(0x21, 0x01), outb(0xa1, 0x01);
    outb(0x21, 0xfe), outb(0xa1, 0xff);
}

/* Channel 0, lobyte/hibyte, mode 2 (rate generator) at hz. */
static inline void start_pit(uint32_t hz) {
    uint32_t count = PIT_HZ / hz;
    outb(0x43, 0x34);
    outb(0x40, (uint8_t) count);
    outb(0x40, (uint8_t) (count >> 8));
}

#endif
