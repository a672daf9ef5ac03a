/*
 * pit32: a protected-mode kernel that takes timer interrupts through 32-bit IDT gates: it remaps the
 * 8259A pair to vectors 0x20-0x2f, unmasks IRQ0 only, runs PIT channel 0 at 100 Hz (mode 2) and
 * sleeps in `sti; hlt` until ten ticks have arrived; the handler counts, sends a non-specific EOI
 * and returns with iret. It prints what it saw and exits with the tick count, the same under QEMU
 * and kemu (nothing it prints depends on how fast the host is).
 */
#include "console.h"
#include "multiboot.h"

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

#define KERNEL_CODE 0x08
#define INTERRUPT_GATE 0x8e
#define TIMER_VECTOR 0x20
#define TICKS 10
#define PIT_HZ 1193182

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

static void remap_pic(void) {
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, TIMER_VECTOR);
    outb(0xa1, TIMER_VECTOR + 8);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xfe); /* IRQ0 only */
    outb(0xa1, 0xff);
}

static void start_pit(uint32_t hz) {
    uint32_t count = PIT_HZ / hz;
    outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
    outb(0x40, (uint8_t) count);
    outb(0x40, (uint8_t) (count >> 8));
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    (void) info;
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "pit32: not started by a Multiboot loader\n");
        debug_exit(0x7f);
    }
    uint32_t handler = (uint32_t) timer_stub;
    idt[TIMER_VECTOR] = (struct gate32) {(uint16_t) handler, KERNEL_CODE, 0, INTERRUPT_GATE, (uint16_t) (handler >> 16)};
    struct idt_pointer pointer = {sizeof idt - 1, (uint32_t) idt};
    __asm__ volatile("lidt %0" : : "m"(pointer));
    remap_pic();
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
