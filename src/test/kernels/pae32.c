/* PAE paging with NX in 32-bit protected mode: four PDPTEs, 2 MiB pages identity-mapping the first
 * 4 MiB, EFER.NXE, and a 4 KiB page at 0x40000000 mapped writable and no-execute. The kernel stores
 * a `ret` there, reads it back, then calls it: an instruction fetch from an NX page, #PF with error
 * code 0x11 and no IDT (QEMU: triple fault; kemu: a fault report naming the PT entry). */
#include "console.h"
#include "multiboot.h"

#define PRESENT 0x1ull
#define WRITABLE 0x2ull
#define LARGE 0x80ull
#define NO_EXECUTE (1ull << 63)
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)
#define MAPPED_VA 0x40000000u /* PDPT index 1, PD index 0, PT index 0 */

static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t low_directory[512] __attribute__((aligned(4096)));
static uint64_t high_directory[512] __attribute__((aligned(4096)));
static uint64_t mapped_table[512] __attribute__((aligned(4096)));
static uint8_t data_page[4096] __attribute__((aligned(4096)));

static void line(const char *text, uint64_t value) {
    put_str(BOTH, "pae32: ");
    put_str(BOTH, text);
    put_hex(BOTH, value);
    put_str(BOTH, "\n");
}

static int has_nx(void) {
    uint32_t eax = 0x80000001u, ebx, ecx = 0, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    return (edx >> 20) & 1;
}

static void enable_pae_paging(void) {
    low_directory[0] = 0x000000 | PRESENT | WRITABLE | LARGE;
    low_directory[1] = 0x200000 | PRESENT | WRITABLE | LARGE;
    high_directory[0] = (uint32_t) mapped_table | PRESENT | WRITABLE;
    mapped_table[0] = (uint32_t) data_page | PRESENT | WRITABLE | NO_EXECUTE;
    pdpt[0] = (uint32_t) low_directory | PRESENT; /* a PDPTE has no R/W or U/S: bits 1 and 2 are reserved */
    pdpt[1] = (uint32_t) high_directory | PRESENT;
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(MSR_EFER));
    __asm__ volatile("wrmsr" : : "a"(low | EFER_NXE), "d"(high), "c"(MSR_EFER));
    uint32_t cr4, cr0;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 0x20u));
    __asm__ volatile("mov %0, %%cr3" : : "r"(pdpt) : "memory");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 0x80000000u) : "memory");
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    (void) info;
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "pae32: not started by a Multiboot loader\n");
        debug_exit(1);
    }
    if (!has_nx()) {
        put_str(BOTH, "pae32: the CPU has no NX bit\n");
        debug_exit(2);
    }
    enable_pae_paging();
    line("PAE paging on with EFER.NXE, PDPT at ", (uint32_t) pdpt);
    volatile uint8_t *code = (volatile uint8_t *) MAPPED_VA;
    *code = 0xc3; /* ret */
    line("stored a ret at 0x40000000 (no-execute), read back ", *code);
    put_str(BOTH, "pae32: calling it\n");
    ((void (*)(void)) MAPPED_VA)(); /* FAULTS HERE */
    debug_exit(0x7e);
}
