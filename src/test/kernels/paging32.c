/* 32-bit paging with the "mirroring" trick: PD entry 1023 points to the page directory itself, so
 * the page tables appear at 0xffc00000-0xffffffff and the directory at 0xfffff000. The kernel maps
 * a page at 0x40000000 by writing its PTE through that window, reads and writes it, unmaps it
 * (invlpg), and then reads it again: a #PF with no IDT (QEMU: triple fault; kemu: a fault report).
 * With "mirror" on its command line it reads instead the page table of V0x4b000000 through the
 * window, which does not exist (PD entry 300 is clear): a #PF inside the mirror window. */
#include "console.h"
#include "multiboot.h"

#define PRESENT 0x1u
#define WRITABLE 0x2u
#define MIRROR_SLOT 1023u
#define MAPPED_VA 0x40000000u                        /* PD index 256, PT index 0 */
#define PAGE_TABLES ((volatile uint32_t *) 0xffc00000u) /* the window of PD entry 1023 */
#define DIRECTORY ((volatile uint32_t *) 0xfffff000u)   /* the page directory itself */

static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t low_table[1024] __attribute__((aligned(4096)));    /* identity map of the first 4 MiB */
static uint32_t mapped_table[1024] __attribute__((aligned(4096))); /* the PT for 0x40000000..0x403fffff */
static uint32_t data_page[1024] __attribute__((aligned(4096)));

/* Whether the Multiboot command line contains word. */
static int has_word(const struct multiboot_info *info, const char *word) {
    if (!(info->flags & MULTIBOOT_INFO_CMDLINE)) {
        return 0;
    }
    for (const char *at = (const char *) (uintptr_t) info->cmdline; *at; at++) {
        const char *a = at, *w = word;
        while (*w && *a == *w) {
            a++;
            w++;
        }
        if (!*w) {
            return 1;
        }
    }
    return 0;
}

static void line(const char *text, uint32_t value) {
    put_str(BOTH, "paging32: ");
    put_str(BOTH, text);
    put_hex(BOTH, value);
    put_str(BOTH, "\n");
}

static void enable_paging(void) {
    for (uint32_t i = 0; i < 1024; i++) {
        low_table[i] = (i << 12) | PRESENT | WRITABLE;
    }
    page_directory[0] = (uint32_t) low_table | PRESENT | WRITABLE;
    page_directory[MAPPED_VA >> 22] = (uint32_t) mapped_table | PRESENT | WRITABLE;
    page_directory[MIRROR_SLOT] = (uint32_t) page_directory | PRESENT | WRITABLE;
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_directory) : "memory");
    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | 0x80000000u) : "memory");
}

/* The PTE of va, reached through the mirror: page table (va >> 22) is the 4 KiB page at 0xffc00000 + (va >> 22) * 4096. */
static volatile uint32_t *pte_of(uint32_t va) {
    return &PAGE_TABLES[va >> 12];
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    serial_init();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "paging32: not started by a Multiboot loader\n");
        debug_exit(1);
    }
    enable_paging();
    line("paging on, directory at ", (uint32_t) page_directory);
    line("PD entry 1023 read through the mirror: ", DIRECTORY[MIRROR_SLOT]);

    *pte_of(MAPPED_VA) = (uint32_t) data_page | PRESENT | WRITABLE;
    line("mapped 0x40000000 through its PTE at ", (uint32_t) pte_of(MAPPED_VA));
    *(volatile uint32_t *) MAPPED_VA = 0x5a17e32u;
    line("data page (identity) holds ", data_page[0]);

    *pte_of(MAPPED_VA) = 0;
    __asm__ volatile("invlpg (%0)" : : "r"(MAPPED_VA) : "memory");
    if (has_word(info, "mirror")) {
        put_str(BOTH, "paging32: reading the page table of 0x4b000000 through the mirror\n");
        line("read ", *pte_of(0x4b000000u)); /* FAULTS HERE TOO */
    }
    put_str(BOTH, "paging32: unmapped 0x40000000, reading it\n");
    line("read ", *(volatile uint32_t *) MAPPED_VA); /* FAULTS HERE */
    debug_exit(0x7e);
}
