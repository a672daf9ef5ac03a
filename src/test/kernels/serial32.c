/* A 32-bit Multiboot kernel (ELF32) that prints on COM1 and on the debug console and exits
 * through isa-debug-exit with the code its command line asks for ("exit=N", default 42). */
#include "console.h"
#include "multiboot.h"

#define DEFAULT_EXIT_CODE 42

/* The number after the first "exit=" on the command line, or fallback. */
static uint32_t exit_code_from(const char *cmdline, uint32_t fallback) {
    for (const char *at = cmdline; *at; at++) {
        const char *key = "exit=", *p = at;
        while (*key && *p == *key) {
            key++, p++;
        }
        if (*key == 0 && *p >= '0' && *p <= '9') {
            uint32_t value = 0;
            while (*p >= '0' && *p <= '9') {
                value = value * 10 + (uint32_t) (*p++ - '0');
            }
            return value;
        }
    }
    return fallback;
}

void kernel_main(uint32_t magic, const struct multiboot_info *info) {
    if (!serial_init()) {
        put_str(DEBUGCON, "serial32: no UART answers at COM1\n");
    }
    put_str(SERIAL, "serial32: hello on COM1\n");
    put_str(DEBUGCON, "serial32: hello on the debug console\n");
    put_str(BOTH, "serial32: COM1 divisor ");
    put_dec(BOTH, serial_divisor());
    put_str(BOTH, ", line control ");
    put_hex(BOTH, serial_line_control());
    put_str(BOTH, "\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        put_str(BOTH, "serial32: not started by a Multiboot loader, magic ");
        put_hex(BOTH, magic);
        put_str(BOTH, "\n");
        debug_exit(1);
    }
    /* No memory sizes printed: loaders may reserve different amounts at the top of RAM. */
    uint32_t code = DEFAULT_EXIT_CODE;
    if (info->flags & MULTIBOOT_INFO_CMDLINE) {
        code = exit_code_from((const char *) (uintptr_t) info->cmdline, DEFAULT_EXIT_CODE);
    }
    put_str(BOTH, "serial32: exiting with code ");
    put_dec(BOTH, code);
    put_str(BOTH, "\n");
    debug_exit(code);
}
