/* A 64-bit higher-half kernel with an IDT of its own: its #PF handler maps the missing page and
 * returns so the store is retried; its #UD handler skips the ud2. It prints what happened on
 * COM1 and the debug console and exits with 0x10 * page faults + invalid opcodes handled. */
#include "console.h"
#include "idt.h"
#include "multiboot.h"
#include "paging64.h"

/* What isr_common leaves on the stack. */
struct frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

#define VECTOR_UD 6
#define VECTOR_PF 14
#define UD2_LENGTH 2
/* Demand-mapped window: boot_pd entry 8 (16 MiB in, 0xffffffff81000000) becomes a page table. */
#define DEMAND_PD_INDEX 8
#define DEMAND_BASE (KERNEL_VMA + ((uint64_t) DEMAND_PD_INDEX << 21))
#define DEMAND_PAGES 4

extern const uint64_t isr_table[32];
extern char invalid_opcode_site[], invalid_opcode_resume[];
void invalid_opcode(void);

static struct gate64 idt[32];
static uint64_t demand_pt[512] __attribute__((aligned(4096)));
static uint8_t demand_frames[DEMAND_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));
static unsigned frames_used, page_faults, invalid_opcodes;

static void set_gate(int vector, uint64_t handler) {
    idt[vector] = gate64(handler, INTERRUPT_GATE);
}

static void print_frame(const char *name, const struct frame *f) {
    put_str(BOTH, "higher64: ");
    put_str(BOTH, name);
    put_str(BOTH, " at rip ");
    put_hex(BOTH, f->rip);
    put_str(BOTH, ", cs ");
    put_hex(BOTH, f->cs);
    put_str(BOTH, ", error code ");
    put_hex(BOTH, f->error_code);
    put_str(BOTH, "\n");
}

static int handle_page_fault(const struct frame *f) {
    uint64_t address = read_cr2();
    print_frame("#PF", f);
    put_str(BOTH, "higher64: cr2 ");
    put_hex(BOTH, address);
    put_str(BOTH, "\n");
    if (address < DEMAND_BASE || address >= DEMAND_BASE + DEMAND_PAGES * PAGE_SIZE || frames_used == DEMAND_PAGES) {
        put_str(BOTH, "higher64: not in the demand-mapped window\n");
        return 0;
    }
    uint64_t page = (address - DEMAND_BASE) / PAGE_SIZE;
    demand_pt[page] = virt_to_phys(demand_frames[frames_used++]) | PTE_PRESENT | PTE_WRITABLE;
    invlpg(address);
    put_str(BOTH, "higher64: mapped page ");
    put_dec(BOTH, page);
    put_str(BOTH, " of the window, retrying\n");
    page_faults++;
    return 1;
}

/* Called by isr_common; returns into the (possibly changed) frame. */
void exception_handler(struct frame *f) {
    if (f->vector == VECTOR_PF && handle_page_fault(f)) {
        return;
    }
    if (f->vector == VECTOR_UD) {
        print_frame("#UD", f);
        put_str(BOTH, f->rip == (uint64_t) invalid_opcode_site ? "higher64: rip is the ud2, skipping it\n"
                                                               : "higher64: rip is NOT the ud2\n");
        f->rip += UD2_LENGTH;
        invalid_opcodes++;
        return;
    }
    print_frame("unexpected exception", f);
    put_str(BOTH, "higher64: vector ");
    put_dec(BOTH, f->vector);
    put_str(BOTH, ", giving up\n");
    debug_exit(0x7f);
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    (void) info;
    serial_init();
    put_str(BOTH, "higher64: in long mode at ");
    put_hex(BOTH, (uint64_t) kernel_main);
    put_str(BOTH, "\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "higher64: not started by a Multiboot loader\n");
        debug_exit(1);
    }
    for (int vector = 0; vector < 32; vector++) {
        set_gate(vector, isr_table[vector]);
    }
    load_idt(idt, sizeof idt);
    install_page_table(DEMAND_PD_INDEX, demand_pt); /* all 512 entries not present */
    put_str(BOTH, "higher64: IDT loaded, window at ");
    put_hex(BOTH, DEMAND_BASE);
    put_str(BOTH, " unmapped\n");

    volatile uint64_t *window = (volatile uint64_t *) DEMAND_BASE;
    window[0] = 0x1122334455667788ul;                       /* #PF: page 0 */
    window[PAGE_SIZE / 8 * 2 + 1] = 0xcafe;                /* #PF: page 2 */
    put_str(BOTH, "higher64: window reads back ");
    put_hex(BOTH, window[0]);
    put_str(BOTH, " and ");
    put_hex(BOTH, window[PAGE_SIZE / 8 * 2 + 1]);
    put_str(BOTH, "\n");

    invalid_opcode();
    put_str(BOTH, "higher64: resumed after #UD\n");

    uint32_t code = page_faults * 0x10 + invalid_opcodes;
    put_str(BOTH, "higher64: exiting with code ");
    put_hex(BOTH, code);
    put_str(BOTH, "\n");
    debug_exit(code);
}
