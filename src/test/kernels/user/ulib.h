/* What the ring-3 test programs call: the example kernel's system calls (Linux's numbers and
 * register convention: RAX number, RDI, RSI, RDX arguments, RAX result; RCX and R11 are clobbered
 * by syscall itself) and a few print helpers on top of write. docs/processes.md lists the calls. */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#define SYS_WRITE 1
#define SYS_BRK 12
#define SYS_SCHED_YIELD 24
#define SYS_GETPID 39
#define SYS_FORK 57
#define SYS_EXIT 60

static inline long syscall3(long number, long a0, long a1, long a2) {
    long result;
    __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a0), "S"(a1), "d"(a2) : "rcx", "r11", "memory");
    return result;
}

static inline long write(int fd, const void *buffer, unsigned long length) { return syscall3(SYS_WRITE, fd, (long) buffer, (long) length); }
static inline long brk(void *end) { return syscall3(SYS_BRK, (long) end, 0, 0); }
static inline long sched_yield(void) { return syscall3(SYS_SCHED_YIELD, 0, 0, 0); }
static inline long getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
static inline long fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
__attribute__((noreturn)) static inline void exit(int status) {
    syscall3(SYS_EXIT, status, 0, 0);
    for (;;) {
    }
}

static inline unsigned long length_of(const char *text) {
    unsigned long n = 0;
    while (text[n]) {
        n++;
    }
    return n;
}

static inline void print(const char *text) { write(1, text, length_of(text)); }

/* Unsigned decimal, or with base 16 "0x" and hex digits. */
static inline void print_number(unsigned long value, unsigned base) {
    char digits[24];
    int n = sizeof digits;
    do {
        digits[--n] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    if (base == 16) {
        digits[--n] = 'x';
        digits[--n] = '0';
    }
    write(1, digits + n, sizeof digits - n);
}

#endif
