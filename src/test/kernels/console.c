#include "console.h"

/* 16550 registers, as offsets from the base port. */
#define COM1 0x3f8
#define UART_THR 0 /* transmit holding (write); receive buffer (read); divisor low with DLAB */
#define UART_IER 1 /* interrupt enable; divisor high with DLAB */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control: word length, parity, DLAB (bit 7) */
#define UART_MCR 4 /* modem control: DTR, RTS, OUT2 */
#define UART_LSR 5 /* line status: THRE (bit 5) says the transmitter takes a byte */
#define UART_SCR 7 /* scratch */
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_THRE 0x20

#define DEBUGCON_PORT 0xe9
#define DEBUG_EXIT_PORT 0xf4

static int serial_present;

int serial_init(void) {
    outb(COM1 + UART_SCR, 0xa5); /* no UART keeps what was written to its scratch register */
    if (inb(COM1 + UART_SCR) != 0xa5) {
        return 0;
    }
    outb(COM1 + UART_IER, 0x00);            /* polled: no interrupts */
    outb(COM1 + UART_LCR, LCR_DLAB);        /* THR and IER become the divisor latch */
    outb(COM1 + UART_THR, 3);               /* 115200 / 3 = 38400 baud */
    outb(COM1 + UART_IER, 0);
    outb(COM1 + UART_LCR, LCR_8N1);         /* DLAB off again */
    outb(COM1 + UART_FCR, 0xc7);            /* FIFOs on and cleared */
    outb(COM1 + UART_MCR, 0x0b);            /* DTR, RTS, OUT2 */
    serial_present = 1;
    return 1;
}

uint16_t serial_divisor(void) {
    uint8_t lcr = inb(COM1 + UART_LCR);
    outb(COM1 + UART_LCR, lcr | LCR_DLAB);
    uint16_t divisor = (uint16_t) (inb(COM1 + UART_THR) | inb(COM1 + UART_IER) << 8);
    outb(COM1 + UART_LCR, lcr);
    return divisor;
}

uint8_t serial_line_control(void) {
    return inb(COM1 + UART_LCR);
}

static void serial_put(char c) {
    if (!serial_present) {
        return;
    }
    while ((inb(COM1 + UART_LSR) & LSR_THRE) == 0) {
        /* wait until the transmitter takes another byte */
    }
    outb(COM1 + UART_THR, (uint8_t) c);
}

void put_char(enum console where, char c) {
    if (where & SERIAL) {
        if (c == '\n') {
            serial_put('\r'); /* terminals want CR LF on a serial line */
        }
        serial_put(c);
    }
    if (where & DEBUGCON) {
        outb(DEBUGCON_PORT, (uint8_t) c);
    }
}

void put_str(enum console where, const char *text) {
    while (*text) {
        put_char(where, *text++);
    }
}

void put_hex(enum console where, uint64_t value) {
    char digits[17];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value & 0xf];
        value >>= 4;
    } while (value != 0);
    put_str(where, "0x");
    while (n > 0) {
        put_char(where, digits[--n]);
    }
}

void put_dec(enum console where, uint64_t value) {
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) {
        put_char(where, digits[--n]);
    }
}

void debug_exit(uint32_t code) {
    outl(DEBUG_EXIT_PORT, code);
    for (;;) {
        __asm__ volatile("cli; hlt"); /* without the exit device, stop here */
    }
}
