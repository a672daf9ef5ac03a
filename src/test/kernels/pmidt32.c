/* A protected-mode kernel with a 32-bit IDT of its own: #DE, int3 (a trap gate) and #GP with
 * its error code are delivered to its handlers, which print what they saw and resume. */
#include "console.h"
#include "idt.h"
#include "multiboot.h"

/* What isr_common leaves on the stack: pusha, the stub's vector and error code, the CPU's frame. */
struct frame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;
};

#define VECTOR_DE 0
#define VECTOR_BP 3
#define VECTOR_GP 13

extern const uint32_t isr_table[32];
extern char divide_site[], divide_resume[], breakpoint_resume[], bad_selector_site[], bad_selector_resume[];
void divide_by_zero(void);
void breakpoint(void);
void load_bad_selector(void);

static struct gate32 idt[32];
static unsigned handled;

static void set_gate(int vector, uint32_t handler, uint8_t type) {
    idt[vector] = gate32(handler, type);
}

static void print_frame(const char *name, const struct frame *f) {
    put_str(BOTH, "pmidt32: ");
    put_str(BOTH, name);
    put_str(BOTH, " at eip ");
    put_hex(BOTH, f->eip);
    put_str(BOTH, ", cs ");
    put_hex(BOTH, f->cs);
    put_str(BOTH, ", error code ");
    put_hex(BOTH, f->error_code);
    put_str(BOTH, "\n");
}

/* Called by isr_common; returns into the (possibly changed) frame. */
void exception_handler(struct frame *f) {
    switch (f->vector) {
    case VECTOR_DE:
        print_frame("#DE", f);
        put_str(BOTH, f->eip == (uint32_t) divide_site ? "pmidt32: eip is the div\n" : "pmidt32: eip is NOT the div\n");
        f->eip = (uint32_t) divide_resume;
        break;
    case VECTOR_BP:
        print_frame("#BP", f);
        put_str(BOTH, f->eip == (uint32_t) breakpoint_resume ? "pmidt32: eip is after the int3\n"
                                                            : "pmidt32: eip is NOT after the int3\n");
        break;
    case VECTOR_GP:
        print_frame("#GP", f);
        put_str(BOTH, f->eip == (uint32_t) bad_selector_site ? "pmidt32: eip is the segment load\n"
                                                             : "pmidt32: eip is NOT the segment load\n");
        f->eip = (uint32_t) bad_selector_resume;
        break;
    default:
        print_frame("unexpected exception", f);
        put_str(BOTH, "pmidt32: vector ");
        put_dec(BOTH, f->vector);
        put_str(BOTH, ", giving up\n");
        debug_exit(0x7f);
    }
    handled++;
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    (void) info;
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "pmidt32: not started by a Multiboot loader\n");
        debug_exit(1);
    }
    for (int vector = 0; vector < 32; vector++) {
        set_gate(vector, isr_table[vector], vector == VECTOR_BP ? TRAP_GATE : INTERRUPT_GATE);
    }
    load_idt(idt, sizeof idt);
    put_str(BOTH, "pmidt32: IDT loaded, 32 gates\n");

    divide_by_zero();
    put_str(BOTH, "pmidt32: resumed after #DE\n");
    breakpoint();
    put_str(BOTH, "pmidt32: resumed after #BP\n");
    load_bad_selector();
    put_str(BOTH, "pmidt32: resumed after #GP\n");

    put_str(BOTH, "pmidt32: handled ");
    put_dec(BOTH, handled);
    put_str(BOTH, " exceptions, exiting with that code\n");
    debug_exit(handled);
}
