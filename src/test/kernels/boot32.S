/* Entry of the 32-bit test kernels: a Multiboot 1 header, a GDT of their own (a loader's GDTR is
 * not to be trusted, the specification says), a stack, then kernel_main(magic, info): boot32_entry.h. */
.set MB_MAGIC, 0x1badb002
.set MB_FLAGS, 0x3                      /* page-aligned modules, memory information */

.section .multiboot, "a"
.align 4
.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

#include "boot32_entry.h"
