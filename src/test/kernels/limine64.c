/* A Limine-protocol kernel (ELF64, higher half at -2 GiB, entered in long mode by the loader): it prints what its
 * requests received on COM1 and the debug console, then exits through isa-debug-exit, or, with "fault" on its
 * command line, writes to its own read-only .text and takes a page fault without an IDT. */
#include "console.h"
#include "limine.h"

__attribute__((used, section(".limine_requests_start")))
static volatile uint64_t requests_start[4] = { 0xf6b8f4b39de7d1ae, 0xfab91a6940fcb9cf, 0x785c6ed015d3e316,
                                               0x181e920a7852b9d9 };
__attribute__((used, section(".limine_requests")))
static volatile uint64_t base_revision[3] = { 0xf9562b2d5c95a6c8, 0x6a7b384944536bdc, 2 };

LIMINE_REQUEST(bootloader_info, 0xf55038d8e2a1202f, 0x279426fcf5f59740);
LIMINE_REQUEST(hhdm, 0x48dcf1cb8ad2b852, 0x63984e959a98244b);
LIMINE_REQUEST(kernel_address, 0x71ba76863cc55f63, 0xb2644a48c516a487);
LIMINE_REQUEST(paging_mode, 0x95c1a0edab0944cb, 0xa4e5cb3842f7488a);
LIMINE_REQUEST(memmap, 0x67cf3d9d378a806f, 0xe304acdfc50c3c62);
LIMINE_REQUEST(module, 0x3e7e279702be32af, 0xca1c4f3bd1280cee);
LIMINE_REQUEST(kernel_file, 0xad97e90e83f1ed67, 0x31eb5d1c5ff23b69);
LIMINE_REQUEST(smp, 0x95a67b819a1b857e, 0xa0b61b723b6a73e0);
LIMINE_REQUEST(framebuffer, 0x9d5827dcd881dd75, 0xa3148604f6fab11b);
__attribute__((used, section(".limine_requests")))
static volatile struct stack_size_request stack_size = {
    .id = { LIMINE_MAGIC, 0x224ef0460a8e8926, 0xe1cb0fc25f46ea3d }, .revision = 0, .stack_size = 0x8000 };

/* Entered through this request's entry, not the ELF entry point (_start). */
__attribute__((noreturn)) static void entry_by_request(void);
__attribute__((used, section(".limine_requests")))
static volatile struct entry_point_request entry_point = {
    .id = { LIMINE_MAGIC, 0x13d86c035a1cd3e1, 0x2b0caa89d8f3026a }, .revision = 0, .entry = entry_by_request };

__attribute__((used, section(".limine_requests_end")))
static volatile uint64_t requests_end[2] = { 0xadc0e0531bb10d03, 0x9572709f31764c62 };

static void line(const char *label, uint64_t value) {
    put_str(BOTH, label);
    put_hex(BOTH, value);
    put_char(BOTH, '\n');
}

static int contains(const char *text, const char *word) {
    for (; *text; text++) {
        const char *a = text, *b = word;
        while (*a && *b && *a == *b) {
            a++;
            b++;
        }
        if (!*b) {
            return 1;
        }
    }
    return 0;
}

extern char _text_start[];

static int entered_by_request;

void kmain(void) {
    serial_init();
    put_str(BOTH, entered_by_request ? "limine64: entered through the entry point request\n"
                                     : "limine64: entered at the ELF entry point\n");
    put_str(BOTH, "limine64: base revision ");
    put_str(BOTH, base_revision[2] == 0 ? "supported\n" : "not supported\n");
    if (bootloader_info.response) {
        put_str(BOTH, "limine64: bootloader ");
        put_str(BOTH, bootloader_info.response->name);
        put_char(BOTH, ' ');
        put_str(BOTH, bootloader_info.response->version);
        put_char(BOTH, '\n');
    }
    if (hhdm.response) {
        line("limine64: hhdm ", hhdm.response->offset);
    }
    if (kernel_address.response) {
        line("limine64: kernel physical ", kernel_address.response->physical_base);
        line("limine64: kernel virtual ", kernel_address.response->virtual_base);
    }
    if (paging_mode.response) {
        line("limine64: paging mode ", paging_mode.response->mode);
    }
    put_str(BOTH, stack_size.response ? "limine64: stack size answered\n" : "limine64: stack size unanswered\n");
    put_str(BOTH, smp.response ? "limine64: smp answered\n" : "limine64: smp unanswered\n");
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    line("limine64: rsp ", rsp);
    if (memmap.response) {
        for (uint64_t i = 0; i < memmap.response->entry_count; i++) {
            struct memmap_entry *e = memmap.response->entries[i];
            put_str(BOTH, "limine64: memmap ");
            put_hex(BOTH, e->base);
            put_char(BOTH, ' ');
            put_hex(BOTH, e->length);
            put_char(BOTH, ' ');
            put_dec(BOTH, e->type);
            put_char(BOTH, '\n');
        }
    }
    if (module.response) {
        for (uint64_t i = 0; i < module.response->module_count; i++) {
            struct file *f = module.response->modules[i];
            put_str(BOTH, "limine64: module ");
            put_str(BOTH, f->cmdline);
            put_str(BOTH, " size ");
            put_dec(BOTH, f->size);
            put_str(BOTH, " text ");
            const char *text = f->address;
            for (uint64_t j = 0; j < f->size && text[j] != '\n'; j++) {
                put_char(BOTH, text[j]);
            }
            put_char(BOTH, '\n');
        }
    }
    const char *cmdline = kernel_file.response ? kernel_file.response->kernel_file->cmdline : "";
    put_str(BOTH, "limine64: cmdline ");
    put_str(BOTH, cmdline);
    put_char(BOTH, '\n');
    if (contains(cmdline, "fault")) {
        put_str(BOTH, "limine64: writing to read-only .text\n");
        *(volatile char *) _text_start = 0; /* CR0.WP is set: a supervisor write to a read-only page faults */
    }
    put_str(BOTH, "limine64: done\n");
    debug_exit(0x15);
}

/* The ELF entry point, which a loader honouring the entry point request never uses. */
__attribute__((noreturn)) void _start(void) {
    kmain();
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

/* The loader enters here in long mode, on its stack, with a 0 return address pushed. */
static void entry_by_request(void) {
    entered_by_request = 1;
    kmain();
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
