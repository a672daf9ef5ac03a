/*
 * kemu's C reference driver: the same libunicorn and the same guest code as the Java side,
 * so every ratio in BENCHMARKS.md compares like with like. Prints one line per figure:
 *   <name> <min> <median> <unit>
 * over REPS repetitions after a warm-up. With FIGURE and REPS after the addresses it runs that one
 * figure (raw, hypercall, page_fault, cow_restore, boot) REPS times after its warm-up: the form
 * bench/run.sh's interleaved rounds (dev.kemu.bench.InterleavedRounds) start once per round.
 * KEMU_BENCH_ITERATIONS overrides the raw and hypercall loop counts, so that a count of host
 * instructions (valgrind --tool=callgrind, bench/instructions.sh) can difference two lengths.
 *
 * usage: kemu_bench loops.bin firmware.bin kernel.bin fw_entry fw_kernel_entry fw_boot_info kernel_entry kmain
 *        [FIGURE REPS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

static int REPS = 7;
#define CODE 0x10000ULL
#define CHECK(call) do { uc_err e_ = (call); if (e_ != UC_ERR_OK) { \
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, uc_strerror(e_)); exit(1); } } while (0)

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, double *samples, int n, const char *unit) {
    qsort(samples, n, sizeof(double), cmp_double);
    printf("%s %.3f %.3f %s\n", name, samples[0], samples[n / 2], unit);
    fflush(stdout);
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(*size);
    if (fread(data, 1, *size, f) != *size) { perror(path); exit(1); }
    fclose(f);
    return data;
}

static void *loops; static size_t loops_size;

/* The loop count of a figure: its default, or KEMU_BENCH_ITERATIONS when set. */
static uint64_t iterations_or(uint64_t fallback) {
    const char *text = getenv("KEMU_BENCH_ITERATIONS");
    return text && *text ? strtoull(text, 0, 10) : fallback;
}

static uc_engine *loop_engine(void) {
    uc_engine *uc;
    CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
    CHECK(uc_mem_map(uc, 0, 16 << 20, UC_PROT_ALL));
    CHECK(uc_mem_write(uc, CODE, loops, loops_size));
    return uc;
}

/* ---- raw emulation ---------------------------------------------------------------------- */
/*
 * Measured on the process's second engine, as kemu's is never its JVM's first (the native set-up and the
 * calibrations open engines before it). Where an engine lands in memory moves this loop: in one process the
 * first engine ran 4,650-4,950 MIPS and later ones 4,100-4,380 (GLIBC_TUNABLES=glibc.malloc.mmap_threshold=0
 * swapped them), and of 24 processes of this driver started one after another, 6 ran it at about 2,400.
 */
static void bench_raw(void) {
    const uint64_t iterations = iterations_or(50000000ULL); /* 10 instructions each */
    double mips[REPS + 1];
    uc_engine *first = loop_engine();
    uc_engine *uc = loop_engine();
    for (int r = 0; r <= REPS; r++) {
        uint64_t rcx = iterations;
        CHECK(uc_reg_write(uc, UC_X86_REG_RCX, &rcx));
        double t = now_ns();
        CHECK(uc_emu_start(uc, CODE, 0, 0, 0));
        double elapsed = now_ns() - t;
        mips[r] = (10.0 * iterations) / (elapsed / 1e9) / 1e6;
    }
    uc_close(uc);
    uc_close(first);
    report("raw_mips", mips + 1, REPS, "MIPS"); /* skip the warm-up run */
}

/* ---- hypercall round trip ---------------------------------------------------------------- */
static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user) {
    if (port != 0xE6) return;
    int regs[3] = {UC_X86_REG_RAX, UC_X86_REG_RDI, UC_X86_REG_RSI};
    uint64_t vals[3]; void *ptrs[3] = {&vals[0], &vals[1], &vals[2]};
    uc_reg_read_batch(uc, regs, ptrs, 3);
    uint64_t result = vals[1] + vals[2];
    uc_reg_write(uc, UC_X86_REG_RAX, &result);
}

static void bench_hypercall(void) {
    const uint64_t calls = iterations_or(2000000);
    double ns[REPS + 1];
    uc_engine *uc = loop_engine();
    uc_hook hook;
    CHECK(uc_hook_add(uc, &hook, UC_HOOK_INSN, on_out, NULL, 1, 0, UC_X86_INS_OUT));
    for (int r = 0; r <= REPS; r++) {
        uint64_t rcx = calls;
        CHECK(uc_reg_write(uc, UC_X86_REG_RCX, &rcx));
        double t = now_ns();
        CHECK(uc_emu_start(uc, CODE + 0x100, 0, 0, 0));
        ns[r] = (now_ns() - t) / calls;
    }
    uc_close(uc);
    report("hypercall_ns", ns + 1, REPS, "ns");
}

/* ---- demand-paging #PF round trip with the #DF workaround -------------------------------- */
static size_t old_exception_offset;
static uint64_t next_frame, pt_base;

static void pf_handler(uc_engine *uc, uint32_t intno, void *user) {
    uint64_t cr2;
    uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
    uint64_t pte = next_frame | 3 | (1ULL << 63);
    next_frame += 4096;
    uint64_t index = (cr2 >> 12) & 511;
    uc_mem_write(uc, pt_base + 8 * index, &pte, 8);
    uc_ctl_flush_tlb(uc);
    uc_context *ctx = (uc_context *)user;
    uc_context_save(uc, ctx);
    *(int32_t *)((char *)ctx + old_exception_offset) = -1;
    uc_context_restore(uc, ctx);
}

static void calibrate_hook(uc_engine *uc, uint32_t intno, void *user) {
    uc_context_save(uc, (uc_context *)user);
    uc_emu_stop(uc);
}

static void bench_page_faults(void) {
    const uint64_t pages = 400; /* one page table's worth, remapped every repetition */
    double ns[REPS + 1];
    for (int r = 0; r <= REPS; r++) {
        uc_engine *uc = loop_engine();
        /* PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000: PD[0] 2 MiB identity (code), PD[1] -> PT 0x4000 (empty) */
        uint64_t e;
        e = 0x2000 | 3; uc_mem_write(uc, 0x1000, &e, 8);
        e = 0x3000 | 3; uc_mem_write(uc, 0x2000, &e, 8);
        e = 0x0 | 0x83; uc_mem_write(uc, 0x3000, &e, 8);
        e = 0x4000 | 3; uc_mem_write(uc, 0x3008, &e, 8);
        pt_base = 0x4000;
        next_frame = 0x400000;
        uint64_t v;
        v = 0x1000; uc_reg_write(uc, UC_X86_REG_CR3, &v);
        uc_reg_read(uc, UC_X86_REG_CR4, &v); v |= 0x20; uc_reg_write(uc, UC_X86_REG_CR4, &v);
        uc_x86_msr efer = {0xC0000080, 0};
        uc_reg_read(uc, UC_X86_REG_MSR, &efer); efer.value |= 0x800; uc_reg_write(uc, UC_X86_REG_MSR, &efer);
        uc_reg_read(uc, UC_X86_REG_CR0, &v); v |= 0x80010000ULL; uc_reg_write(uc, UC_X86_REG_CR0, &v);
        uc_context *ctx;
        CHECK(uc_context_alloc(uc, &ctx));
        if (old_exception_offset == 0) {
            /* Calibrate as kemu does: the one int that is -1 before a #PF and 14 after. */
            uc_context *before;
            CHECK(uc_context_alloc(uc, &before));
            uc_context_save(uc, before);
            uc_hook cal;
            uc_hook_add(uc, &cal, UC_HOOK_INTR, calibrate_hook, ctx, 1, 0);
            uint64_t rcx = 1, rdi = 0x200000;
            uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
            uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
            uc_emu_start(uc, CODE + 0x200, 0, 0, 0);
            uc_hook_del(uc, cal);
            size_t size = uc_context_size(uc);
            for (size_t at = 0; at + 4 <= size; at += 4) {
                if (*(int32_t *)((char *)before + at) == -1 && *(int32_t *)((char *)ctx + at) == 14) {
                    old_exception_offset = at;
                    break;
                }
            }
            uc_context_save(uc, ctx);
            *(int32_t *)((char *)ctx + old_exception_offset) = -1;
            uc_context_restore(uc, ctx);
            uc_context_free(before);
            if (old_exception_offset == 0) { fprintf(stderr, "calibration failed\n"); exit(1); }
        }
        uc_hook hook;
        CHECK(uc_hook_add(uc, &hook, UC_HOOK_INTR, pf_handler, ctx, 1, 0));
        uint64_t rcx = pages, rdi = 0x200000;
        uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
        uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
        double t = now_ns();
        CHECK(uc_emu_start(uc, CODE + 0x200, 0, 0, 0));
        ns[r] = (now_ns() - t) / pages;
        uc_context_free(ctx);
        uc_close(uc);
    }
    report("page_fault_ns", ns + 1, REPS, "ns");
}

/* ---- Unicorn's copy-on-write snapshot restore ------------------------------------------- */
static void bench_cow_restore(void) {
    int dirty_counts[3] = {2, 16, 256};
    for (int d = 0; d < 3; d++) {
        uc_engine *uc;
        CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
        CHECK(uc_ctl_context_mode(uc, UC_CTL_CONTEXT_CPU | UC_CTL_CONTEXT_MEMORY));
        CHECK(uc_mem_map(uc, 0, 64 << 20, UC_PROT_ALL));
        uc_context *snap;
        CHECK(uc_context_alloc(uc, &snap));
        CHECK(uc_context_save(uc, snap));
        double us[REPS + 1];
        uint64_t value = 0x5a5a5a5a;
        for (int r = 0; r <= REPS; r++) {
            for (int p = 0; p < dirty_counts[d]; p++) {
                uc_mem_write(uc, (uint64_t)p * 4096 * 3, &value, 8);
            }
            double t = now_ns();
            CHECK(uc_context_restore(uc, snap));
            us[r] = (now_ns() - t) / 1000;
        }
        char name[64];
        snprintf(name, sizeof name, "cow_restore_%d_us", dirty_counts[d]);
        report(name, us + 1, REPS, "us");
        uc_context_free(snap);
        uc_close(uc);
    }
}

/* ---- boot to kmain ------------------------------------------------------------------------ */
static void bench_boot(const char *fw_path, const char *kernel_path, uint64_t fw_entry, uint64_t fw_kernel_entry,
                       uint64_t fw_boot_info, uint64_t kernel_entry, uint64_t kmain) {
    size_t fw_size, kernel_size;
    void *fw = read_file(fw_path, &fw_size), *kernel = read_file(kernel_path, &kernel_size);
    double us[REPS + 1];
    for (int r = 0; r <= REPS; r++) {
        double t = now_ns();
        uc_engine *uc;
        CHECK(uc_open(UC_ARCH_X86, UC_MODE_64, &uc));
        CHECK(uc_mem_map(uc, 0, 64 << 20, UC_PROT_ALL));
        CHECK(uc_mem_write(uc, 0x8000, fw, fw_size));
        CHECK(uc_mem_write(uc, 0x100000, kernel, kernel_size));
        /* Multiboot information and memory map, as kemu's MultibootInfo writes them. */
        uint32_t info[13] = {0};
        info[0] = 1 | 4 | 64; info[1] = 0x9fc00 / 1024; info[2] = ((64 << 20) - 0x20000 - 0x100000) / 1024;
        info[4] = 0x7400; info[11] = 6 * 24; info[12] = 0x7100;
        CHECK(uc_mem_write(uc, 0x7000, info, sizeof info));
        struct __attribute__((packed)) { uint32_t size; uint64_t base, length; uint32_t type; } map[6] = {
            {20, 0, 0x9fc00, 1}, {20, 0x9fc00, 0x400, 2}, {20, 0xf0000, 0x10000, 2},
            {20, 0x100000, (64 << 20) - 0x20000 - 0x100000, 1}, {20, (64 << 20) - 0x20000, 0x20000, 2},
            {20, 0xfffc0000ULL, 0x40000, 2}};
        CHECK(uc_mem_write(uc, 0x7100, map, sizeof map));
        CHECK(uc_mem_write(uc, 0x7400, "kemu", 5));
        uint32_t entry32 = (uint32_t)kernel_entry, info32 = 0x7000;
        CHECK(uc_mem_write(uc, fw_kernel_entry, &entry32, 4));
        CHECK(uc_mem_write(uc, fw_boot_info, &info32, 4));
        CHECK(uc_emu_start(uc, fw_entry, kmain, 0, 0));
        uint64_t rip;
        uc_reg_read(uc, UC_X86_REG_RIP, &rip);
        uc_close(uc);
        us[r] = (now_ns() - t) / 1000;
        if (rip != kmain) { fprintf(stderr, "boot stopped at 0x%lx, not kmain\n", rip); exit(1); }
    }
    report("boot_to_kmain_us", us + 1, REPS, "us");
}

int main(int argc, char **argv) {
    if (argc != 9 && argc != 11) {
        fprintf(stderr, "usage: %s loops.bin firmware.bin kernel.bin fw_entry fw_kernel_entry fw_boot_info "
                "kernel_entry kmain (addresses in hex) [FIGURE REPS]\n", argv[0]);
        return 2;
    }
    const char *only = argc == 11 ? argv[9] : NULL;
    if (only) {
        REPS = atoi(argv[10]);
        if (REPS < 1) { fprintf(stderr, "REPS must be at least 1, not '%s'\n", argv[10]); return 2; }
    }
    loops = read_file(argv[1], &loops_size);
    unsigned major, minor;
    uc_version(&major, &minor);
    if (!only) printf("libunicorn %u.%u\n", major, minor);
    int known = 0;
#define FIGURE(name) (!only || (strcmp(only, name) == 0 && (known = 1)))
    if (FIGURE("raw")) bench_raw();
    if (FIGURE("hypercall")) bench_hypercall();
    if (FIGURE("page_fault")) bench_page_faults();
    if (FIGURE("cow_restore")) bench_cow_restore();
    if (FIGURE("boot"))
        bench_boot(argv[2], argv[3], strtoull(argv[4], 0, 16), strtoull(argv[5], 0, 16), strtoull(argv[6], 0, 16),
                   strtoull(argv[7], 0, 16), strtoull(argv[8], 0, 16));
    if (only && !known) {
        fprintf(stderr, "unknown figure '%s': one of raw, hypercall, page_fault, cow_restore, boot\n", only);
        return 2;
    }
    return 0;
}
