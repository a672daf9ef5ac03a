/* A Limine-protocol kernel that takes its application processors from the SMP response (PROTOCOL.md, base
 * revision 2): it prints the response, starts every AP by writing its goto_address, and each AP prints what it
 * received (its info struct in RDI, its stack, the other registers and flags), counts itself in with lock xadd and
 * halts. The BSP waits for the count, prints it and exits through isa-debug-exit. With "parked" on its command line
 * it writes no goto_address and checks, after a while, that no AP has left its parking place. */
#include "console.h"
#include "limine.h"

__attribute__((used, section(".limine_requests_start")))
static volatile uint64_t requests_start[4] = { 0xf6b8f4b39de7d1ae, 0xfab91a6940fcb9cf, 0x785c6ed015d3e316,
                                               0x181e920a7852b9d9 };
__attribute__((used, section(".limine_requests")))
static volatile uint64_t base_revision[3] = { 0xf9562b2d5c95a6c8, 0x6a7b384944536bdc, 2 };
LIMINE_REQUEST(smp, 0x95a67b819a1b857e, 0xa0b61b723b6a73e0);
LIMINE_REQUEST(hhdm, 0x48dcf1cb8ad2b852, 0x63984e959a98244b);
LIMINE_REQUEST(kernel_file, 0xad97e90e83f1ed67, 0x31eb5d1c5ff23b69);
LIMINE_REQUEST(memmap, 0x67cf3d9d378a806f, 0xe304acdfc50c3c62); /* the JUnit harness carves its areas from it */
__attribute__((used, section(".limine_requests_end")))
static volatile uint64_t requests_end[2] = { 0xadc0e0531bb10d03, 0x9572709f31764c62 };

static volatile uint64_t reported;   /* APs counted in, by lock xadd */
static volatile uint32_t print_lock; /* one AP prints at a time: a turn may end mid-line */
static uint64_t bsp_cr3;

static void line(const char *label, uint64_t value) {
    put_str(BOTH, label);
    put_hex(BOTH, value);
    put_char(BOTH, '\n');
}

static uint64_t cr3(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}

static uint64_t rflags(void) {
    uint64_t value;
    __asm__ volatile("pushfq; pop %0" : "=r"(value));
    return value;
}

/* The AP's C side: info from RDI, its RSP at the jump and the OR of every other general-purpose register. */
__attribute__((used, noreturn)) static void ap_main(struct smp_info *info, uint64_t *entry_rsp, uint64_t others) {
    uint64_t flags = rflags();
    while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) {
        __asm__ volatile("pause");
    }
    put_str(BOTH, "liminesmp64: AP processor_id ");
    put_dec(BOTH, info->processor_id);
    put_str(BOTH, " lapic_id ");
    put_dec(BOTH, info->lapic_id);
    put_str(BOTH, " argument ");
    put_dec(BOTH, info->extra_argument);
    put_str(BOTH, " rsp ");
    put_hex(BOTH, (uint64_t) entry_rsp);
    put_str(BOTH, " return ");
    put_hex(BOTH, *entry_rsp);
    put_str(BOTH, " registers ");
    put_hex(BOTH, others);
    put_str(BOTH, " if ");
    put_dec(BOTH, (flags >> 9) & 1);
    put_str(BOTH, " cr3 ");
    put_str(BOTH, cr3() == bsp_cr3 ? "the BSP's" : "another");
    put_char(BOTH, '\n');
    __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
    uint64_t one = 1;
    __asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(reported) : : "memory");
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* Where goto_address points: collects the registers before any C code can change them. */
__asm__(".text\n"
        "ap_entry:\n"
        "    or %rax, %rbx\n    or %rcx, %rbx\n    or %rdx, %rbx\n    or %rsi, %rbx\n    or %rbp, %rbx\n"
        "    or %r8, %rbx\n    or %r9, %rbx\n    or %r10, %rbx\n    or %r11, %rbx\n    or %r12, %rbx\n"
        "    or %r13, %rbx\n    or %r14, %rbx\n    or %r15, %rbx\n"
        "    mov %rbx, %rdx\n"
        "    mov %rsp, %rsi\n"
        "    jmp ap_main\n");
void ap_entry(struct smp_info *info);

void kmain(void) {
    bsp_cr3 = cr3();
    serial_init();
    if (!smp.response) {
        put_str(BOTH, "liminesmp64: smp unanswered\n");
        debug_exit(0x16);
    }
    struct smp_response *r = smp.response;
    line("liminesmp64: hhdm ", hhdm.response ? hhdm.response->offset : 0);
    line("liminesmp64: smp revision ", r->revision);
    line("liminesmp64: flags ", r->flags);
    put_str(BOTH, "liminesmp64: bsp_lapic_id ");
    put_dec(BOTH, r->bsp_lapic_id);
    put_str(BOTH, "\nliminesmp64: cpu_count ");
    put_dec(BOTH, r->cpu_count);
    put_char(BOTH, '\n');
    const char *cmdline = kernel_file.response ? kernel_file.response->kernel_file->cmdline : "";
    if (cmdline[0] == 'p') {
        for (int spin = 0; spin < 100000; spin++) {
            __asm__ volatile("pause");
        }
        put_str(BOTH, reported ? "liminesmp64: an AP left its parking place\n" : "liminesmp64: the APs stayed parked\n");
        debug_exit(0x17);
    }
    uint64_t aps = 0;
    for (uint64_t i = 0; i < r->cpu_count; i++) {
        struct smp_info *cpu = r->cpus[i];
        put_str(BOTH, "liminesmp64: cpu ");
        put_dec(BOTH, i);
        put_str(BOTH, " processor_id ");
        put_dec(BOTH, cpu->processor_id);
        put_str(BOTH, " lapic_id ");
        put_dec(BOTH, cpu->lapic_id);
        put_str(BOTH, " info ");
        put_hex(BOTH, (uint64_t) cpu);
        put_str(BOTH, " goto ");
        put_hex(BOTH, (uint64_t) cpu->goto_address);
        put_char(BOTH, '\n');
    }
    for (uint64_t i = 0; i < r->cpu_count; i++) {
        struct smp_info *cpu = r->cpus[i];
        if (cpu->lapic_id != r->bsp_lapic_id) {
            cpu->extra_argument = 100 + i;
            __atomic_store_n(&cpu->goto_address, ap_entry, __ATOMIC_SEQ_CST);
            aps++;
        }
    }
    while (__atomic_load_n(&reported, __ATOMIC_ACQUIRE) != aps) {
        __asm__ volatile("pause");
    }
    put_str(BOTH, "liminesmp64: APs reported ");
    put_dec(BOTH, reported);
    put_char(BOTH, '\n');
    debug_exit(0x15);
}

__attribute__((noreturn)) void _start(void) {
    kmain();
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
