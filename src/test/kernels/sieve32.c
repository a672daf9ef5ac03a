/*
 * sieve32: a user's compute-bound kernel for `make bench` (bench/guest-kernels.sh): the sieve of
 * Eratosthenes over 64 MiB (one byte per number, at 16 MiB, so it needs 96 MiB of RAM), then the
 * count of primes on both consoles and an exit through isa-debug-exit with status 0. The Multiboot
 * command line picks the variant, so kemu and QEMU run the same image with the same flags:
 *   (empty)  the whole sieve
 *   empty    print and exit at once: the start-up to subtract from a whole run
 *   timer    the whole sieve while PIT channel 0 interrupts it at 1 kHz (IRQ0, vector 0x20)
 *   small    (with or without timer) a sieve over 16 MiB instead of 64
 *   fault    print, then ud2 with no IDT: a boot that stops with kemu's fault report
 * What it prints does not depend on how fast the host is (the tick count goes to COM1 only).
 */
#include "console.h"
#include "multiboot.h"

#define SIEVE_BASE 0x1000000u
#define PIT_HZ 1193182
#define TIMER_VECTOR 0x20

struct gate32 {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t zero;
    uint8_t type_attributes;
    uint16_t offset_high;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static struct gate32 idt[256];
volatile uint32_t ticks;
void sieve_tick(void);

__asm__(".text\n"
        ".globl sieve_tick\n"
        "sieve_tick:\n"
        "    pushl %eax\n"
        "    incl ticks\n"
        "    movb $0x20, %al\n"
        "    outb %al, $0x20\n"
        "    popl %eax\n"
        "    iret\n");

/* Whether the command line holds WORD as a space-separated word. */
static int has_word(const char *text, const char *word) {
    for (const char *start = text; *start; start++) {
        if (start != text && start[-1] != ' ') {
            continue;
        }
        const char *a = start, *b = word;
        while (*b && *a == *b) {
            a++, b++;
        }
        if (!*b && (*a == 0 || *a == ' ')) {
            return 1;
        }
    }
    return 0;
}

/* PIC remapped to 0x20 with IRQ0 alone unmasked, PIT channel 0 in mode 2 at 1 kHz, interrupts on. */
static void start_timer(void) {
    uint32_t handler = (uint32_t) sieve_tick;
    idt[TIMER_VECTOR] = (struct gate32) {(uint16_t) handler, 0x08, 0, 0x8e, (uint16_t) (handler >> 16)};
    struct idt_pointer pointer = {sizeof idt - 1, (uint32_t) idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
    outb(0x20, 0x11), outb(0xa0, 0x11);
    outb(0x21, TIMER_VECTOR), outb(0xa1, TIMER_VECTOR + 8);
    outb(0x21, 0x04), outb(0xa1, 0x02);
    outb(0x21, 0x01), outb(0xa1, 0x01);
    outb(0x21, 0xfe), outb(0xa1, 0xff);
    uint32_t count = PIT_HZ / 1000;
    outb(0x43, 0x34);
    outb(0x40, (uint8_t) count);
    outb(0x40, (uint8_t) (count >> 8));
    __asm__ volatile("sti");
}

static uint32_t sieve(uint32_t bytes) {
    uint8_t *const is_prime = (uint8_t *) SIEVE_BASE;
    uint32_t fill = 0x01010101u, words = bytes / 4;
    void *at = is_prime;
    /* rep stosl rather than a loop gcc would turn into a call to memset, which there is none of */
    __asm__ volatile("rep stosl" : "+D"(at), "+c"(words) : "a"(fill) : "memory");
    is_prime[0] = is_prime[1] = 0;
    for (uint32_t i = 2; i * i < bytes; i++) {
        if (is_prime[i]) {
            for (uint32_t j = i * i; j < bytes; j += i) {
                is_prime[j] = 0;
            }
        }
    }
    uint32_t primes = 0;
    for (uint32_t i = 0; i < bytes; i++) {
        primes += is_prime[i];
    }
    return primes;
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    serial_init();
    const char *cmdline = magic == MULTIBOOT_BOOTLOADER_MAGIC && (info->flags & 4) ? (const char *) info->cmdline : "";
    if (has_word(cmdline, "empty")) {
        put_str(BOTH, "sieve32: empty run\n");
        debug_exit(0);
    }
    if (has_word(cmdline, "fault")) {
        put_str(BOTH, "sieve32: ud2 with no IDT\n");
        __asm__ volatile("ud2");
    }
    if (has_word(cmdline, "timer")) {
        start_timer();
    }
    uint32_t mib = has_word(cmdline, "small") ? 16 : 64;
    uint32_t primes = sieve(mib << 20);
    __asm__ volatile("cli");
    put_str(BOTH, "sieve32: ");
    put_dec(BOTH, primes);
    put_str(BOTH, " primes below ");
    put_dec(BOTH, mib);
    put_str(BOTH, " Mi\n");
    put_str(SERIAL, "sieve32: timer ticks ");
    put_dec(SERIAL, ticks);
    put_str(SERIAL, "\n");
    debug_exit(0);
}
