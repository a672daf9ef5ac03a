/* Entry of the Multiboot 2 test kernel: a Multiboot 2 header with tags, a GDT of its own, a stack, then
 * kernel_main(magic, info). Written from the Multiboot 2 specification (2.0), section 3.1. */
.set MB2_MAGIC, 0xe85250d6
.set MB2_ARCH_I386, 0

.section .multiboot, "a"
.align 8
header:
.long MB2_MAGIC, MB2_ARCH_I386, header_end - header, -(MB2_MAGIC + MB2_ARCH_I386 + (header_end - header))
.align 8
info_request:                           /* type 1, required: what the kernel cannot boot without */
.short 1, 0
.long info_request_end - info_request
.long 1, 2, 3, 4, 6                     /* command line, loader name, modules, basic meminfo, memory map */
info_request_end:
.align 8
acpi_request:                           /* type 1, optional (flags bit 0): the ACPI RSDP tags */
.short 1, 1
.long acpi_request_end - acpi_request
.long 14, 15
acpi_request_end:
.align 8
.short 6, 0                             /* module alignment */
.long 8
.align 8
.short 5, 1                             /* framebuffer, optional: kemu has none and says so */
.long 20
.long 1024, 768, 32
.align 8
.short 0, 0                             /* end */
.long 8
header_end:

#include "boot32_entry.h"
