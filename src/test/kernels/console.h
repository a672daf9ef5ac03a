/* The PC devices every test kernel talks to: COM1 (a 16550 UART, polled), QEMU's debug console at
 * port 0xE9 and the isa-debug-exit port at 0xF4. Freestanding: builds with -m32 and -m64. */
#ifndef TESTKERNEL_CONSOLE_H
#define TESTKERNEL_CONSOLE_H

#include <stdint.h>

enum console { SERIAL = 1, DEBUGCON = 2, BOTH = SERIAL | DEBUGCON };

static inline void outb(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t value) { __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

/* Programs COM1 for 38400 baud 8N1 as a real kernel does; returns 0 when no UART answers. */
int serial_init(void);
/* The baud-rate divisor and the line control register, read back from the UART. */
uint16_t serial_divisor(void);
uint8_t serial_line_control(void);
void put_char(enum console where, char c);
void put_str(enum console where, const char *text);
void put_hex(enum console where, uint64_t value);
void put_dec(enum console where, uint64_t value);
/* Writes code to isa-debug-exit: QEMU (and kemu) then exit with status (code << 1) | 1. */
__attribute__((noreturn)) void debug_exit(uint32_t code);

#endif
