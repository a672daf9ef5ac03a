/* The boot page tables of boot64.S and what the 64-bit test kernels need to edit them. */
#ifndef TESTKERNEL_PAGING64_H
#define TESTKERNEL_PAGING64_H

#include <stdint.h>

#define KERNEL_VMA 0xffffffff80000000ul
#define PAGE_SIZE 4096ul
#define PTE_PRESENT (1ul << 0)
#define PTE_WRITABLE (1ul << 1)

/* Shared by the identity map and the higher half: entry i maps i * 2 MiB with a huge page. */
extern uint64_t boot_pd[512];

static inline uint64_t virt_to_phys(const void *kernel_address) { return (uint64_t) kernel_address - KERNEL_VMA; }
static inline void invlpg(uint64_t address) { __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory"); }
static inline uint64_t read_cr2(void) {
    uint64_t value;
    __asm__ volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}

/* Replaces the 2 MiB huge page at boot_pd[pd_index] with the 4 KiB page table pt. */
static inline void install_page_table(int pd_index, uint64_t *pt) {
    boot_pd[pd_index] = virt_to_phys(pt) | PTE_PRESENT | PTE_WRITABLE;
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory"); /* both aliases changed: flush all */
}

#endif
