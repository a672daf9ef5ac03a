/* A Multiboot 2 kernel (32-bit C): checks the magic and prints every information tag it received on COM1 and
 * the debug console, then exits through isa-debug-exit with the number of tags it saw. */
#include "console.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289

struct tag { uint32_t type, size; };
struct mmap_entry { uint64_t base, length; uint32_t type, reserved; };

static void text_tag(const char *label, const struct tag *t) {
    put_str(BOTH, label);
    put_str(BOTH, (const char *) (t + 1));
    put_char(BOTH, '\n');
}

void kernel_main(uint32_t magic, uint32_t info) {
    serial_init();
    if (magic != MB2_BOOTLOADER_MAGIC) {
        put_str(BOTH, "mb2: wrong magic ");
        put_hex(BOTH, magic);
        put_char(BOTH, '\n');
        debug_exit(1);
    }
    const uint8_t *base = (const uint8_t *) info;
    put_str(BOTH, "mb2: total size ");
    put_dec(BOTH, *(const uint32_t *) base);
    put_char(BOTH, '\n');
    uint32_t tags = 0;
    for (const uint8_t *at = base + 8;; at += (((const struct tag *) at)->size + 7) & ~7u) {
        const struct tag *t = (const struct tag *) at;
        tags++;
        if (t->type == 0) {
            put_str(BOTH, "mb2: end\n");
            break;
        }
        const uint32_t *body = (const uint32_t *) (t + 1);
        switch (t->type) {
        case 1: text_tag("mb2: cmdline ", t); break;
        case 2: text_tag("mb2: loader ", t); break;
        case 3:
            put_str(BOTH, "mb2: module ");
            put_str(BOTH, (const char *) (body + 2));
            put_str(BOTH, " text ");
            for (const char *c = (const char *) body[0]; c < (const char *) body[1] && *c != '\n'; c++) {
                put_char(BOTH, *c);
            }
            put_char(BOTH, '\n');
            break;
        case 4:
            put_str(BOTH, "mb2: meminfo lower ");
            put_dec(BOTH, body[0]);
            put_str(BOTH, " upper ");
            put_dec(BOTH, body[1]);
            put_char(BOTH, '\n');
            break;
        case 6: {
            uint32_t entry_size = body[0];
            for (const uint8_t *e = (const uint8_t *) (body + 2); e < at + t->size; e += entry_size) {
                const struct mmap_entry *m = (const struct mmap_entry *) e;
                put_str(BOTH, "mb2: mmap ");
                put_hex(BOTH, m->base);
                put_char(BOTH, ' ');
                put_hex(BOTH, m->length);
                put_char(BOTH, ' ');
                put_dec(BOTH, m->type);
                put_char(BOTH, '\n');
            }
            break;
        }
        case 14:
        case 15: { /* a copy of the RSDP: its signature, OEM id and revision, as a kernel checks them */
            const char *rsdp = (const char *) body;
            put_str(BOTH, t->type == 14 ? "mb2: acpi old rsdp " : "mb2: acpi new rsdp ");
            for (int i = 0; i < 8; i++) {
                put_char(BOTH, rsdp[i]);
            }
            put_str(BOTH, " oem ");
            for (int i = 9; i < 15; i++) {
                put_char(BOTH, rsdp[i]);
            }
            put_str(BOTH, " revision ");
            put_dec(BOTH, (uint8_t) rsdp[15]);
            put_char(BOTH, '\n');
            break;
        }
        default:
            put_str(BOTH, "mb2: tag ");
            put_dec(BOTH, t->type);
            put_char(BOTH, '\n');
        }
    }
    debug_exit(tags);
}
