/*
 * pit32: a protected-mode kernel that takes timer interrupts through 32-bit IDT gates: it remaps the
 * 8259A pair to vectors 0x20-0x2f, unmasks IRQ0 only, runs PIT channel 0 at 100 Hz (mode 2) and
 * sleeps in `sti; hlt` until ten ticks have arrived; the handler counts, sends a non-specific EOI
 * and returns with iret. It prints what it saw and exits with the tick count, the same under QEMU
 * and kemu (nothing it prints depends on how fast the host is).
 */
#include "pic32.h"
#include "multiboot.h"

#define TIMER_VECTOR 0x20
#define TICKS 10

static struct gate32 idt[256];
volatile uint32_t ticks;
volatile uint32_t flags_in_handler;
void timer_stub(void);

/* The handler: count, remember EFLAGS (IF must be clear in an interrupt gate), EOI, iret. */
__asm__(".text\n"
        ".globl timer_stub\n"
        "timer_stub:\n"
        "    pushl %eax\n"
        "    pushfl\n"
        "    popl flags_in_handler\n"
        "    incl ticks\n"
        "    movb $0x20, %al\n"
        "    outb %al, $0x20\n"
        "    popl %eax\n"
        "    iret\n");

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    (void) info;
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "pit32: not started by a Multiboot loader\n");
        debug_exit(0x7f);
    }
    load_timer_gate(idt, TIMER_VECTOR, timer_stub);
    remap_pic(TIMER_VECTOR);
    start_pit(100);
    put_str(BOTH, "pit32: PIC at 0x20, PIT at 100 Hz, waiting for 10 ticks\n");
    __asm__ volatile("sti");
    while (ticks < TICKS) {
        __asm__ volatile("hlt");
    }
    __asm__ volatile("cli");
    put_str(BOTH, "pit32: ");
    put_dec(BOTH, ticks);
    put_str(BOTH, " ticks; IF in the handler: ");
    put_dec(BOTH, (flags_in_handler >> 9) & 1);
    put_str(BOTH, "\n");
    debug_exit(ticks);
}
