/* The Limine protocol's structures this test kernel uses, written from PROTOCOL.md (Limine project, base
 * revisions 0-2): request ids are the common magic plus two per-feature quads. Not Limine's limine.h. */
#ifndef TESTKERNEL_LIMINE_H
#define TESTKERNEL_LIMINE_H

#include <stdint.h>

#define LIMINE_MAGIC 0xc7b1dd30df4c8b88, 0x0a82e883a194f07b
#define LIMINE_REQUEST(name, a, b) \
    __attribute__((used, section(".limine_requests"))) static volatile struct name##_request name = { \
        .id = { LIMINE_MAGIC, a, b }, .revision = 0 }

struct response_header { uint64_t revision; };

struct bootloader_info_response { uint64_t revision; char *name; char *version; };
struct hhdm_response { uint64_t revision; uint64_t offset; };
struct kernel_address_response { uint64_t revision; uint64_t physical_base; uint64_t virtual_base; };
struct paging_mode_response { uint64_t revision; uint64_t mode; };
struct memmap_entry { uint64_t base; uint64_t length; uint64_t type; };
struct memmap_response { uint64_t revision; uint64_t entry_count; struct memmap_entry **entries; };
struct file {
    uint64_t revision; void *address; uint64_t size; char *path; char *cmdline;
    uint32_t media_type, unused, tftp_ip, tftp_port, partition_index, mbr_disk_id;
    uint8_t uuids[48];
};
struct module_response { uint64_t revision; uint64_t module_count; struct file **modules; };
struct kernel_file_response { uint64_t revision; struct file *kernel_file; };

#define REQUEST_HEAD(response_type) uint64_t id[4]; uint64_t revision; response_type *response
struct bootloader_info_request { REQUEST_HEAD(struct bootloader_info_response); };
struct hhdm_request { REQUEST_HEAD(struct hhdm_response); };
struct kernel_address_request { REQUEST_HEAD(struct kernel_address_response); };
struct paging_mode_request { REQUEST_HEAD(struct paging_mode_response); uint64_t mode, max_mode, min_mode; };
struct memmap_request { REQUEST_HEAD(struct memmap_response); };
struct module_request { REQUEST_HEAD(struct module_response); };
struct kernel_file_request { REQUEST_HEAD(struct kernel_file_response); };
struct stack_size_request { REQUEST_HEAD(struct response_header); uint64_t stack_size; };
struct smp_info {
    uint32_t processor_id, lapic_id; uint64_t reserved;
    void (*volatile goto_address)(struct smp_info *); uint64_t extra_argument;
};
struct smp_response { uint64_t revision; uint32_t flags, bsp_lapic_id; uint64_t cpu_count; struct smp_info **cpus; };
struct smp_request { REQUEST_HEAD(struct smp_response); uint64_t flags; };
struct framebuffer_request { REQUEST_HEAD(struct response_header); };
struct entry_point_request { REQUEST_HEAD(struct response_header); void (*entry)(void); };

#endif
