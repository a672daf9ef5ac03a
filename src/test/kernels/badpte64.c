/* A 64-bit higher-half kernel with a deliberately wrong page-table entry: of the eight pages it
 * maps, PT entry 5 lacks the W bit (a typo a kernel author makes), and it has no IDT. Writing to
 * page 4 works; the write to page 5 faults (CR0.WP is set), which on a PC triple-faults. kemu's
 * fault report names the entry: level, index and the missing bit. With `rewrite` on its command line it first
 * stores REWRITES other values into PT entry 5, so the entry's last write is one of many (--pt-history). */
#include "console.h"
#include "multiboot.h"
#include "cmdline.h"
#include "paging64.h"

#define WINDOW_PD_INDEX 8 /* 0xffffffff81000000 */
#define WINDOW_BASE (KERNEL_VMA + ((uint64_t) WINDOW_PD_INDEX << 21))
#define WINDOW_PAGES 8
#define WRONG_ENTRY 5
#define REWRITES 1000

static uint64_t window_pt[512] __attribute__((aligned(4096)));
static uint8_t window_frames[WINDOW_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    serial_init();
    /* the low GiB stays identity-mapped (boot64.S), so the loader's command line is readable where it is */
    if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (info->flags & 4) && has_word((const char *) (uint64_t) info->cmdline, "rewrite")) {
        volatile uint64_t *entry = &window_pt[WRONG_ENTRY];
        for (uint64_t i = 1; i <= REWRITES; i++) {
            *entry = i << 12; /* not present: never walked */
        }
    }
    for (int page = 0; page < WINDOW_PAGES; page++) {
        uint64_t flags = page == WRONG_ENTRY ? PTE_PRESENT : PTE_PRESENT | PTE_WRITABLE; /* the bug */
        window_pt[page] = virt_to_phys(window_frames[page]) | flags;
    }
    install_page_table(WINDOW_PD_INDEX, window_pt);
    put_str(BOTH, "badpte64: mapped ");
    put_dec(BOTH, WINDOW_PAGES);
    put_str(BOTH, " pages at ");
    put_hex(BOTH, WINDOW_BASE);
    put_str(BOTH, "\n");

    volatile uint64_t *window = (volatile uint64_t *) WINDOW_BASE;
    window[(WRONG_ENTRY - 1) * PAGE_SIZE / 8] = 4;
    put_str(BOTH, "badpte64: wrote page 4\n");
    put_str(BOTH, "badpte64: writing page 5\n");
    window[WRONG_ENTRY * PAGE_SIZE / 8] = 5; /* FAULTS HERE: PT entry 5 is read-only */
    put_str(BOTH, "badpte64: wrote page 5, which should have faulted\n");
    debug_exit(0x7f);
}
