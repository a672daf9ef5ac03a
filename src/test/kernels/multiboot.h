/* The part of the Multiboot 1 information structure the test kernels read. */
#ifndef TESTKERNEL_MULTIBOOT_H
#define TESTKERNEL_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MULTIBOOT_INFO_CMDLINE (1u << 2)

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower; /* KiB below 1 MiB */
    uint32_t mem_upper; /* KiB above 1 MiB */
    uint32_t boot_device;
    uint32_t cmdline;   /* physical address of a NUL-terminated string */
} __attribute__((packed));

#endif
