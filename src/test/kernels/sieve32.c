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
#include "pic32.h"
#include "multiboot.h"
#include "cmdline.h"

#define SIEVE_BASE 0x1000000u
#define TIMER_VECTOR 0x20

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

/* PIC remapped to 0x20 with IRQ0 alone unmasked, PIT channel 0 in mode 2 at 1 kHz, interrupts on. */
static void start_timer(void) {
    load_timer_gate(idt, TIMER_VECTOR, sieve_tick);
    remap_pic(TIMER_VECTOR);
    start_pit(1000);
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
