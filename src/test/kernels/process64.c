/* A minimal process kernel on kemu's address spaces (docs/processes.md): every Multiboot module is
 * a static ELF64 program that it loads into a space of its own (HC_SPACE_CREATE, HC_SPACE_MAP),
 * runs in ring 3 (GDT with user segments, TSS.RSP0, iretq) and serves through syscall (EFER.SCE,
 * STAR, LSTAR, FMASK): write, exit, fork (HC_SPACE_CLONE: copy-on-write), brk (HC_SPACE_MAP),
 * sched_yield, getpid. Processes take turns only when one yields, exits or dies; a fault in ring 3
 * kills the process and the others go on. Needs kemu's hypercalls, so not comparable with QEMU. */
#include "console.h"
#include "idt.h"
#include "multiboot.h"
#include "paging64.h"

/* Hypercalls (docs/ABI.md). */
#define HYPERCALL_PORT 0xe6
#define KEMU_MAGIC 0x6b656d75
#define HC_PROBE 0
#define HC_MM_INIT 1
#define HC_MM_STAT 16
#define HC_SPACE_CREATE 19
#define HC_SPACE_DESTROY 20
#define HC_SPACE_CLONE 21
#define HC_SPACE_MAP 22
#define HC_SPACE_PROTECT 24
#define SPACE_W 2
#define SPACE_U 4
#define DIRECT_MAP 0xffff800000000000ul

/* Linux's system call numbers and errnos. */
#define SYS_WRITE 1
#define SYS_BRK 12
#define SYS_SCHED_YIELD 24
#define SYS_GETPID 39
#define SYS_FORK 57
#define SYS_EXIT 60
#define EFAULT 14
#define EAGAIN 11
#define ENOMEM 12
#define ENOSYS 38
#define EBADF 9

#define KERNEL_CS 0x08
#define USER_DS 0x1b
#define USER_CS 0x23
#define TSS_SELECTOR 0x28
#define SYSCALL_VECTOR 0x80
#define VECTOR_PF 14
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_FMASK 0xc0000084u
#define EFER_SCE 1ul
#define EFER_NXE (1ul << 11) /* kemu's direct map is NX */
#define RFLAGS_FIXED 0x2ul
#define FMASK_BITS 0x47700ul /* TF, IF, DF, IOPL, NT, AC cleared on entry, as Linux does */
#define STATUS_KILLED 139     /* a shell's 128 + SIGSEGV */

#define USER_TOP 0x800000000000ul
#define STACK_TOP 0x7ffffff00000ul
#define STACK_SIZE (16 * PAGE_SIZE)
#define MAX_PROCESSES 8

/* What process64.S leaves on the kernel stack: our pushes, vector, error code, the CPU's frame. */
struct frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

enum state { FREE, RUNNABLE };
struct process {
    enum state state;
    uint64_t pid, space, brk_start, brk;
    const char *name;
    struct frame regs; /* saved while another process runs */
};

struct elf64_header {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_program_header {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_W 2

struct multiboot_modules { /* the fields after the ones multiboot.h has */
    struct multiboot_info head;
    uint32_t mods_count, mods_addr;
} __attribute__((packed));
struct multiboot_module {
    uint32_t start, end, string, reserved;
};
#define MULTIBOOT_INFO_MODS (1u << 3)

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2, reserved1, ist[7], reserved2;
    uint16_t reserved3, iopb;
} __attribute__((packed));
struct table_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_table[32];
extern char kernel_end[], kernel_stack_top[];
extern uint64_t sysret_returns, iret_returns; /* counted by process64.S */
void syscall_entry(void);
__attribute__((noreturn)) void resume(struct frame *frame);

static struct tss64 tss;
static uint64_t gdt[7];
static struct gate64 idt[32];
static struct process processes[MAX_PROCESSES];
static struct process *current;
static uint64_t kernel_cr3, next_pid = 1, exited, killed;

static long hypercall(long number, long a0, long a1, long a2, long a3) {
    register long r10 __asm__("r10") = a3;
    long result;
    __asm__ volatile("outb %%al, %w1" : "=a"(result) : "Nd"(HYPERCALL_PORT), "0"(number), "D"(a0), "S"(a1), "d"(a2),
                     "r"(r10) : "memory");
    return result;
}

static void write_msr(uint32_t msr, uint64_t value) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t) value), "d"((uint32_t) (value >> 32)));
}
static uint64_t read_msr(uint32_t msr) {
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return (uint64_t) high << 32 | low;
}
static void write_cr3(uint64_t value) { __asm__ volatile("mov %0, %%cr3" : : "r"(value) : "memory"); }
static void *phys(uint64_t address) { return (void *) (DIRECT_MAP + address); }
static uint64_t page_up(uint64_t value) { return (value + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static void say(const char *text) { put_str(BOTH, text); }
static void say_hex(uint64_t value) { put_hex(BOTH, value); }
static void say_dec(uint64_t value) { put_dec(BOTH, value); }

__attribute__((noreturn)) static void panic(const char *why) {
    say("process64: panic: ");
    say(why);
    say("\n");
    debug_exit(0x7f);
}

/* GDT: kernel code/data, user data/code in the order sysret expects, then the 16-byte TSS descriptor. */
static void load_segments(void) {
    gdt[1] = 0x00af9a000000ffffull; /* 0x08 kernel code, 64-bit */
    gdt[2] = 0x00cf92000000ffffull; /* 0x10 kernel data */
    gdt[3] = 0x00cff2000000ffffull; /* 0x18 user data, DPL 3 */
    gdt[4] = 0x00affa000000ffffull; /* 0x20 user code, 64-bit, DPL 3 */
    uint64_t base = (uint64_t) &tss, limit = sizeof tss - 1;
    gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 | ((limit >> 16) & 0xf) << 48
             | ((base >> 24) & 0xff) << 56; /* present, available 64-bit TSS */
    gdt[6] = base >> 32;
    tss.rsp0 = (uint64_t) kernel_stack_top;
    tss.iopb = sizeof tss; /* no I/O bitmap: ring 3 has no ports */
    struct table_pointer pointer = {sizeof gdt - 1, (uint64_t) gdt};
    __asm__ volatile("lgdt %0\n"
                     "mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n"
                     "ltr %w1" : : "m"(pointer), "r"(TSS_SELECTOR) : "rax", "memory");
    for (int vector = 0; vector < 32; vector++) {
        uint64_t handler = isr_table[vector];
        idt[vector] = gate64(handler, INTERRUPT_GATE);
    }
    load_idt(idt, sizeof idt);
    write_msr(MSR_EFER, read_msr(MSR_EFER) | EFER_SCE);
    write_msr(MSR_STAR, (uint64_t) (USER_DS - 8 - 3) << 48 | (uint64_t) KERNEL_CS << 32);
    write_msr(MSR_LSTAR, (uint64_t) syscall_entry);
    write_msr(MSR_FMASK, FMASK_BITS);
}

static struct process *new_process(void) {
    for (int i = 0; i < MAX_PROCESSES; i++) {
        if (processes[i].state == FREE) {
            processes[i] = (struct process) {.state = RUNNABLE, .pid = next_pid++};
            return &processes[i];
        }
    }
    return 0;
}

/* Loads the ELF64 executable in [start, end) (physical) into a new space; 0 and a message if it cannot. */
static struct process *spawn(const char *name, uint64_t start, uint64_t end) {
    const struct elf64_header *elf = phys(start);
    if (end - start < sizeof *elf || elf->ident[0] != 0x7f || elf->ident[1] != 'E' || elf->ident[2] != 'L'
        || elf->ident[3] != 'F' || elf->ident[4] != 2 || elf->type != 2 || elf->machine != 62
        || elf->phentsize != sizeof(struct elf64_program_header) || elf->phoff + elf->phnum * elf->phentsize > end - start) {
        say("process64: module ");
        say(name);
        say(" is not a static x86-64 ELF64 executable, skipped\n");
        return 0;
    }
    struct process *p = new_process();
    long space = p ? hypercall(HC_SPACE_CREATE, 0, 0, 0, 0) : -ENOMEM;
    if (space < 0) {
        panic("no process slot or no memory for a space");
    }
    p->space = (uint64_t) space;
    p->name = name;
    const struct elf64_program_header *ph = phys(start + elf->phoff);
    uint64_t image_end = 0;
    for (int i = 0; i < elf->phnum; i++) {
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0) {
            continue;
        }
        uint64_t first = ph[i].vaddr & ~(PAGE_SIZE - 1), last = page_up(ph[i].vaddr + ph[i].memsz);
        if (ph[i].filesz > ph[i].memsz || ph[i].offset + ph[i].filesz > end - start || last > USER_TOP || first < PAGE_SIZE
            || hypercall(HC_SPACE_MAP, space, first, last - first, SPACE_W | SPACE_U) != 0) {
            panic("a PT_LOAD segment outside the user half, past the file or overlapping another");
        }
        /* Copy through the user addresses: kemu demand-pages the VMA; the rest of memsz stays zero. */
        write_cr3(p->space);
        const uint8_t *from = phys(start + ph[i].offset);
        uint8_t *to = (uint8_t *) ph[i].vaddr;
        for (uint64_t n = 0; n < ph[i].filesz; n++) {
            to[n] = from[n];
        }
        write_cr3(kernel_cr3);
        if (!(ph[i].flags & PF_W)) {
            hypercall(HC_SPACE_PROTECT, space, first, last - first, SPACE_U); /* text and rodata read-only */
        }
        image_end = last > image_end ? last : image_end;
    }
    if (hypercall(HC_SPACE_MAP, space, STACK_TOP - STACK_SIZE, STACK_SIZE, SPACE_W | SPACE_U) != 0) {
        panic("cannot map the user stack");
    }
    p->brk_start = p->brk = image_end;
    p->regs = (struct frame) {.rip = elf->entry, .cs = USER_CS, .rflags = RFLAGS_FIXED, .rsp = STACK_TOP, .ss = USER_DS};
    say("process64: pid ");
    say_dec(p->pid);
    say(" runs ");
    say(name);
    say(", entry ");
    say_hex(elf->entry);
    say(", space ");
    say_hex(p->space);
    say("\n");
    return p;
}

/* The next runnable process after current in table order, current itself last; 0 when none is left. */
static struct process *next_after(struct process *from) {
    int at = from ? (int) (from - processes) : MAX_PROCESSES - 1;
    for (int step = 1; step <= MAX_PROCESSES; step++) {
        struct process *p = &processes[(at + step) % MAX_PROCESSES];
        if (p->state == RUNNABLE) {
            return p;
        }
    }
    return 0;
}

/* Saves the interrupted process's frame and puts the next one's in its place (its space in CR3). */
static void switch_to(struct process *next, struct frame *frame) {
    if (next == current) {
        return;
    }
    if (current && current->state == RUNNABLE) {
        current->regs = *frame;
    }
    current = next;
    *frame = next->regs;
    write_cr3(next->space);
}

static void finish(void) {
    say("process64: no process left: ");
    say_dec(exited);
    say(" exited, ");
    say_dec(killed);
    say(" killed; free frames ");
    say_dec((uint64_t) hypercall(HC_MM_STAT, 0, 0, 0, 0));
    say("\nprocess64: returns to ring 3: ");
    say_dec(sysret_returns);
    say(" by sysretq, ");
    say_dec(iret_returns);
    say(" by iretq\n");
    debug_exit((uint32_t) (exited << 4 | killed));
}

/* Ends current: its space goes (CR3 must leave it first) and the next process runs in frame. */
static void end_process(struct frame *frame, uint64_t status) {
    say("process64: pid ");
    say_dec(current->pid);
    say(status == STATUS_KILLED ? " killed, status " : " exited with status ");
    say_dec(status);
    say("\n");
    write_cr3(kernel_cr3);
    if (hypercall(HC_SPACE_DESTROY, current->space, 0, 0, 0) != 0) {
        panic("HC_SPACE_DESTROY refused a dead process's space");
    }
    current->state = FREE;
    struct process *next = next_after(current);
    if (!next) {
        finish();
    }
    switch_to(next, frame);
}

/* A user buffer is acceptable when it lies in the user half; unmapped pages in it fault in the kernel. */
static long sys_write(uint64_t fd, uint64_t buffer, uint64_t length) {
    if (fd != 1 && fd != 2) {
        return -EBADF;
    }
    if (buffer >= USER_TOP || length > USER_TOP - buffer) {
        return -EFAULT;
    }
    const char *text = (const char *) buffer;
    for (uint64_t i = 0; i < length; i++) {
        put_char(BOTH, text[i]);
    }
    return (long) length;
}

static long sys_fork(struct frame *frame) {
    struct process *child = new_process();
    if (!child) {
        return -EAGAIN;
    }
    long space = hypercall(HC_SPACE_CLONE, current->space, 0, 0, 0);
    if (space < 0) {
        child->state = FREE;
        return -ENOMEM;
    }
    child->space = (uint64_t) space;
    child->name = current->name;
    child->brk_start = current->brk_start;
    child->brk = current->brk;
    child->regs = *frame;
    child->regs.rax = 0;
    say("process64: pid ");
    say_dec(current->pid);
    say(" forked pid ");
    say_dec(child->pid);
    say(", space ");
    say_hex(child->space);
    say(" shares its pages copy-on-write\n");
    return (long) child->pid;
}

/* Linux's brk: 0 (or any bad value) asks for the current break; growing maps the new pages. */
static long sys_brk(uint64_t wanted) {
    uint64_t now = page_up(current->brk);
    if (wanted < current->brk_start || wanted >= STACK_TOP - STACK_SIZE) {
        return (long) current->brk;
    }
    if (page_up(wanted) > now && hypercall(HC_SPACE_MAP, current->space, now, page_up(wanted) - now,
                                           SPACE_W | SPACE_U) != 0) {
        return (long) current->brk;
    }
    current->brk = wanted; /* shrinking keeps the pages: enough for this example */
    return (long) wanted;
}

static void system_call(struct frame *frame) {
    uint64_t number = frame->rax;
    switch (number) {
    case SYS_WRITE: frame->rax = (uint64_t) sys_write(frame->rdi, frame->rsi, frame->rdx); break;
    case SYS_BRK: frame->rax = (uint64_t) sys_brk(frame->rdi); break;
    case SYS_GETPID: frame->rax = current->pid; break;
    case SYS_FORK: frame->rax = (uint64_t) sys_fork(frame); break;
    case SYS_SCHED_YIELD:
        frame->rax = 0;
        switch_to(next_after(current), frame);
        break;
    case SYS_EXIT:
        exited++;
        end_process(frame, frame->rdi & 0xff);
        break;
    default: frame->rax = (uint64_t) -ENOSYS;
    }
}

/* Called by process64.S for every exception and syscall; returns into *frame. */
void trap(struct frame *frame) {
    if (frame->vector == SYSCALL_VECTOR) {
        system_call(frame);
        return;
    }
    if ((frame->cs & 3) == 3) {
        say("process64: pid ");
        say_dec(current->pid);
        say(": exception ");
        say_dec(frame->vector);
        say(" at rip ");
        say_hex(frame->rip);
        if (frame->vector == VECTOR_PF) {
            say(", cr2 ");
            say_hex(read_cr2());
        }
        say(", error code ");
        say_hex(frame->error_code);
        say(" in ring 3\n");
        killed++;
        end_process(frame, STATUS_KILLED);
        return;
    }
    if (frame->vector == VECTOR_PF && current && read_cr2() < USER_TOP) {
        /* A system call touched a user address in no VMA (e.g. write's buffer). Linux would return -EFAULT
         * through its exception table; this example kills the caller, ending the syscall's own frame. */
        struct frame *caller = (struct frame *) ((uint64_t) kernel_stack_top - sizeof(struct frame));
        say("process64: pid ");
        say_dec(current->pid);
        say(": system call ");
        say_dec(caller->rax);
        say(" faulted on user address ");
        say_hex(read_cr2());
        say("\n");
        killed++;
        end_process(caller, STATUS_KILLED);
        resume(caller);
    }
    say("process64: exception ");
    say_dec(frame->vector);
    say(" in the kernel at rip ");
    say_hex(frame->rip);
    say("\n");
    debug_exit(0x7f);
}

void kernel_main(uint32_t magic, const struct multiboot_modules *info) {
    serial_init();
    say("process64: in long mode\n");
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        panic("not started by a Multiboot loader");
    }
    if (hypercall(HC_PROBE, 0, 0, 0, 0) != KEMU_MAGIC) {
        panic("no kemu hypercalls (HC_PROBE): this kernel runs on kemu's address spaces");
    }
    write_msr(MSR_EFER, read_msr(MSR_EFER) | EFER_NXE);
    if (hypercall(HC_MM_INIT, (long) info, 0x100000, (long) virt_to_phys(kernel_end), 0) != 0) {
        panic("HC_MM_INIT failed");
    }
    __asm__ volatile("mov %%cr3, %0" : "=r"(kernel_cr3));
    load_segments();
    uint64_t free_before = (uint64_t) hypercall(HC_MM_STAT, 0, 0, 0, 0);
    say("process64: syscall entry at ");
    say_hex(read_msr(MSR_LSTAR));
    say(", free frames ");
    say_dec(free_before);
    say("\n");

    const struct multiboot_modules *mb = phys((uint64_t) info);
    if (!(mb->head.flags & MULTIBOOT_INFO_MODS) || mb->mods_count == 0) {
        panic("no modules: pass the user programs with --module FILE");
    }
    const struct multiboot_module *modules = phys(mb->mods_addr);
    for (uint32_t i = 0; i < mb->mods_count; i++) {
        spawn((const char *) phys(modules[i].string), modules[i].start, modules[i].end);
    }
    struct process *first = next_after(0);
    if (!first) {
        panic("no module could be loaded");
    }
    struct frame *frame = (struct frame *) ((uint64_t) kernel_stack_top - sizeof(struct frame));
    switch_to(first, frame);
    resume(frame);
}
