/*
 * kemu's hypercall trampoline: Unicorn calls kemu_out_dispatch_hook for every `out`; for the hypercall
 * port it reads the service's argument registers and writes RAX here, in C, around one Java upcall
 * that receives the arguments as parameters. That saves the two FFM register downcalls per
 * hypercall. Only as many registers as the service declares are read (its entry in `arity`, kept
 * current by Java): each register read costs about 60 host instructions inside Unicorn. Unicorn's functions arrive as pointers, so this library does not link against it.
 * Built by scripts/natives.sh; kemu falls back to a pure-Java hook when it is absent.
 *
 * A failing Unicorn call is never ignored: the hook records it in the dispatch block and tells
 * Java through `failed`, which stops the emulation and makes uc_emu_start's caller throw an
 * exception naming the call and Unicorn's error. A hypercall whose arguments could not be read
 * is not made.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int (*reg_read_batch_fn)(void *uc, int *regs, void **values, int count);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef int64_t (*hypercall_fn)(uint64_t receiver, uint32_t number, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
                                int64_t a4, int64_t a5);
typedef void (*port_out_fn)(uint64_t receiver, uint32_t port, int32_t size, uint32_t value);
typedef void (*failed_fn)(uint64_t receiver, int32_t call, int32_t uc_err);

/* Which Unicorn call failed, as recorded in failed_call and passed to `failed`. */
enum kemu_call { KEMU_CALL_NONE = 0, KEMU_CALL_REG_READ_BATCH = 1, KEMU_CALL_REG_WRITE = 2 };

/* Service numbers the arity table covers; a number past it reads all six argument registers. */
#define KEMU_ARITY_NUMBERS 64

/* Mirrored by the StructLayout in dev.kemu.machine.NativeOutHook, checked against the table below. */
struct kemu_out_dispatch {
    uint32_t hypercall_port;        /* 0xffffffff = none yet */
    int32_t rax;                    /* register id of RAX */
    int32_t arguments[6];           /* register ids of RDI, RSI, RDX, R10, R8, R9 */
    reg_read_batch_fn read_batch;   /* uc_reg_read_batch */
    reg_write_fn write;             /* uc_reg_write */
    hypercall_fn hypercall;         /* Java: the service */
    port_out_fn other_port;         /* Java: every other port */
    failed_fn failed;               /* Java: a Unicorn call failed; stops the emulation */
    uint64_t receiver;              /* which machine the Java side dispatches to */
    int32_t error;                  /* uc_err of the first failed call, 0 = none */
    int32_t failed_call;            /* its enum kemu_call */
    uint8_t arity[KEMU_ARITY_NUMBERS]; /* argument registers service n reads; the others pass as 0 */
};

/* Size, then the offset of every field in declaration order: Java refuses a library whose layout differs. */
const uint32_t kemu_out_dispatch_layout[] = {
    sizeof(struct kemu_out_dispatch),
    offsetof(struct kemu_out_dispatch, hypercall_port),
    offsetof(struct kemu_out_dispatch, rax),
    offsetof(struct kemu_out_dispatch, arguments),
    offsetof(struct kemu_out_dispatch, read_batch),
    offsetof(struct kemu_out_dispatch, write),
    offsetof(struct kemu_out_dispatch, hypercall),
    offsetof(struct kemu_out_dispatch, other_port),
    offsetof(struct kemu_out_dispatch, failed),
    offsetof(struct kemu_out_dispatch, receiver),
    offsetof(struct kemu_out_dispatch, error),
    offsetof(struct kemu_out_dispatch, failed_call),
    offsetof(struct kemu_out_dispatch, arity),
};
const uint32_t kemu_out_dispatch_layout_length = sizeof(kemu_out_dispatch_layout) / sizeof(kemu_out_dispatch_layout[0]);

static void fail(struct kemu_out_dispatch *d, enum kemu_call call, int err) {
    if (d->error == 0) {
        d->error = err;
        d->failed_call = call;
    }
    d->failed(d->receiver, call, err);
}

void kemu_out_dispatch_hook(void *uc, uint32_t port, int size, uint32_t value, struct kemu_out_dispatch *d) {
    if (port != d->hypercall_port) {
        d->other_port(d->receiver, port, size, value);
        return;
    }
    uint32_t number = value & 0xff;
    int count = number < KEMU_ARITY_NUMBERS ? d->arity[number] : 6;
    if (count > 6) {
        count = 6;
    }
    int64_t a[6] = {0, 0, 0, 0, 0, 0};
    void *slots[6] = {&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]};
    int err = count == 0 ? 0 : d->read_batch(uc, d->arguments, slots, count);
    if (err != 0) {
        fail(d, KEMU_CALL_REG_READ_BATCH, err);
        return;
    }
    int64_t result = d->hypercall(d->receiver, number, a[0], a[1], a[2], a[3], a[4], a[5]);
    err = d->write(uc, d->rax, &result);
    if (err != 0) {
        fail(d, KEMU_CALL_REG_WRITE, err);
    }
}

/*
 * kemu's instruction counter: a code hook on every instruction that counts in C, so a run that needs
 * virtual time (interrupts, an instruction budget) pays no Java upcall per instruction. The hook runs
 * before its instruction and Unicorn checks for a stop right after it, so stopping here means the
 * instruction at `address` does not run: a quantum runs exactly `limit` instructions. While Java
 * waits for IF (an interrupt is pending), instructions of 1 to 3 bytes (sti, popf, iret, sysret are
 * among them) go to Java, which may end the quantum after them by lowering `limit`.
 */
typedef int (*emu_stop_fn)(void *uc);
typedef void (*watch_fn)(uint64_t receiver, uint64_t address, uint32_t size);
typedef uint64_t (*decode_fn)(uint64_t receiver, uint64_t address, uint32_t size);

/*
 * One translated block the block counter has seen: how many instructions it holds, where its last one
 * starts, and whether that one can set IF (sti, popf, iret, sysret; each ends its block). Direct-mapped
 * by address; `generation` lets Java forget every entry at once (a new run may hold other code there).
 */
struct kemu_block_entry {
    uint64_t address;
    uint32_t size;
    uint32_t generation;
    uint16_t instructions;
    uint16_t last_offset;
    uint32_t sets_if;
};

/* What decode returns: instructions, the last one's offset, and whether it can set IF, in one word. */
#define KEMU_DECODED_INSTRUCTIONS(d) ((uint16_t) (d))
#define KEMU_DECODED_LAST_OFFSET(d) ((uint16_t) ((d) >> 16))
#define KEMU_DECODED_SETS_IF(d) ((uint32_t) ((d) >> 32) & 1)

/* Mirrored by the StructLayout in dev.kemu.machine.CounterBlock, checked against the table below. */
struct kemu_counter {
    uint64_t in_quantum;    /* instructions of the quantum so far */
    uint64_t limit;         /* the quantum ends before the instruction past this many */
    uint64_t last_address;  /* the last instruction that ran */
    emu_stop_fn stop;       /* uc_emu_stop */
    watch_fn watch;         /* Java: a short instruction while an interrupt waits for IF */
    uint64_t receiver;      /* which machine the Java side belongs to */
    int32_t watching;       /* 1 while an interrupt waits for IF */
    int32_t limit_hit;      /* set when the quantum ended at its limit */
    /* The block counter (kemu_block_count_hook) only: */
    decode_fn decode;       /* Java: a block not cached yet, as KEMU_DECODED_* read it */
    struct kemu_block_entry *cache;
    uint32_t cache_mask;    /* entries - 1 (a power of two minus one) */
    uint32_t generation;    /* entries of another generation are stale */
    int32_t crossed;        /* set when the quantum stopped before a block that would run past the limit */
    int32_t last_sets_if;   /* the last block counted in this quantum ended with sti, popf, iret or sysret */
    uint64_t block_address; /* the last block counted */
    uint32_t block_size;
    uint32_t block_instructions;
};

const uint32_t kemu_counter_layout[] = {
    sizeof(struct kemu_counter),
    offsetof(struct kemu_counter, in_quantum),
    offsetof(struct kemu_counter, limit),
    offsetof(struct kemu_counter, last_address),
    offsetof(struct kemu_counter, stop),
    offsetof(struct kemu_counter, watch),
    offsetof(struct kemu_counter, receiver),
    offsetof(struct kemu_counter, watching),
    offsetof(struct kemu_counter, limit_hit),
    offsetof(struct kemu_counter, decode),
    offsetof(struct kemu_counter, cache),
    offsetof(struct kemu_counter, cache_mask),
    offsetof(struct kemu_counter, generation),
    offsetof(struct kemu_counter, crossed),
    offsetof(struct kemu_counter, last_sets_if),
    offsetof(struct kemu_counter, block_address),
    offsetof(struct kemu_counter, block_size),
    offsetof(struct kemu_counter, block_instructions),
};
const uint32_t kemu_counter_layout_length = sizeof(kemu_counter_layout) / sizeof(kemu_counter_layout[0]);

void kemu_count_hook(void *uc, uint64_t address, uint32_t size, struct kemu_counter *c) {
    if (c->in_quantum >= c->limit) {
        c->limit_hit = 1;
        c->stop(uc);
        return;
    }
    c->in_quantum++;
    c->last_address = address;
    if (c->watching && size <= 3) {
        c->watch(c->receiver, address, size);
    }
}

/*
 * kemu's block counter: a block hook that adds a translated block's instructions at once, so virtual time
 * costs one call per block instead of one per instruction (kemu_count_hook). Unicorn calls it before the
 * block's first instruction and checks for a stop before running any of it, so stopping here means none
 * of the block runs. A block that would run past `limit` is not entered: `crossed` asks Java to run the
 * instructions left up to the limit on their own (with an end address inside the block). While an
 * interrupt waits for IF, the quantum ends after a block whose last instruction can set IF: the same
 * boundary kemu_count_hook's watch ends it at, since those instructions always end their block.
 */
/* Adds a block the quantum has room for; the last block counted is the one a loop repeats. */
static inline void count_block(struct kemu_counter *c, uint64_t address, uint32_t size, const struct kemu_block_entry *e) {
    c->in_quantum += e->instructions;
    c->last_address = address + e->last_offset;
    c->last_sets_if = (int32_t) e->sets_if;
    c->block_address = address;
    c->block_size = size;
    c->block_instructions = e->instructions;
}

static inline struct kemu_block_entry *block_entry(const struct kemu_counter *c, uint64_t address) {
    return &c->cache[(address ^ (address >> 12)) & c->cache_mask];
}

static __attribute__((noinline)) void block_count_slow(void *uc, uint64_t address, uint32_t size, struct kemu_counter *c) {
    if (c->in_quantum >= c->limit || (c->watching && c->last_sets_if)) {
        c->limit = c->in_quantum;
        c->limit_hit = 1;
        c->stop(uc);
        return;
    }
    struct kemu_block_entry *e = block_entry(c, address);
    if (e->address != address || e->size != size || e->generation != c->generation) {
        uint64_t decoded = c->decode(c->receiver, address, size);
        e->address = address;
        e->size = size;
        e->generation = c->generation;
        e->instructions = KEMU_DECODED_INSTRUCTIONS(decoded) ? KEMU_DECODED_INSTRUCTIONS(decoded) : 1;
        e->last_offset = KEMU_DECODED_LAST_OFFSET(decoded);
        e->sets_if = KEMU_DECODED_SETS_IF(decoded);
    }
    if (c->in_quantum + e->instructions > c->limit) {
        c->crossed = 1; /* the block is not counted: block_instructions 0 says so */
        c->block_address = address;
        c->block_size = size;
        c->block_instructions = 0;
        c->stop(uc);
        return;
    }
    count_block(c, address, size, e);
}

/*
 * The hook itself. Unicorn calls it before every block a quantum runs, and a loop's block is often two
 * instructions, so the common cases are counted here without a stack frame: the same block again, and a
 * block already in the cache that the quantum has room for, when no stop is due. Anything else (a stop,
 * a block to decode, one that would cross the limit) goes to block_count_slow, which decides it in full.
 */
void kemu_block_count_hook(void *uc, uint64_t address, uint32_t size, struct kemu_counter *c) {
    int stop_due = c->watching && c->last_sets_if;
    uint64_t again = c->in_quantum + c->block_instructions;
    if (__builtin_expect(!stop_due && address == c->block_address && size == c->block_size
            && c->block_instructions != 0 && again <= c->limit, 1)) {
        c->in_quantum = again; /* then in_quantum < limit held, as the block holds an instruction */
        return;
    }
    const struct kemu_block_entry *e = block_entry(c, address);
    if (!stop_due && c->in_quantum < c->limit && e->address == address && e->size == size
            && e->generation == c->generation && c->in_quantum + e->instructions <= c->limit) {
        count_block(c, address, size, e);
        return;
    }
    block_count_slow(uc, address, size, c);
}

/*
 * kemu's identity TLB for a CPU without paging (CR0.PG = 0), Unicorn's UC_TLB_VIRTUAL mode. libunicorn
 * 2.1.4 keeps every store to a page whose TLB entry allows execution on its slow path (notdirty_write,
 * which also looks for translated code to invalidate), and without paging every page allows it: a
 * store-heavy guest ran ~3x slower than QEMU. This hook maps linear = physical, as the CPU does
 * without paging, but grants execute only on pages code was fetched from (QEMU's rule: only pages
 * holding code are watched for stores). A page's first fetch flushes the TLB, so no entry that let
 * stores skip the slow path survives for it in any MMU mode. So does every KEMU_TLB_RESIZE_FILLS-th
 * fill: Unicorn (like QEMU) resizes its TLB only when it is flushed, and a kernel without paging never
 * flushes, so a working set above the first 256 entries would miss on every page forever (QEMU's
 * policy then doubles a TLB found over 70% used). With paging on it does not translate:
 * it sets paging_seen and refuses, which ends uc_emu_start at that instruction (UC_ERR_EXCEPTION);
 * Java then returns the engine to the CPU's own page walk for good and resumes there.
 */
typedef int (*reg_read_fn)(void *uc, int regid, void *value);
typedef int (*ctl_fn)(void *uc, int control, ...);

/* Mirrored by the StructLayout in dev.kemu.machine.IdentityTlb, checked against the table below. */
struct kemu_identity_tlb {
    reg_read_fn read;       /* uc_reg_read */
    ctl_fn ctl;             /* uc_ctl */
    uint8_t *code_pages;    /* one bit per 4 KiB page below pages << 12: code was fetched from it */
    uint64_t pages;
    int32_t cr0;            /* register id of CR0 */
    int32_t flush_control;  /* UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0) */
    int32_t paging_seen;    /* set when a fill found CR0.PG on */
    int32_t error;          /* uc_err of a failed CR0 read, 0 = none */
    uint64_t fills;         /* fills since the last flush */
};

const uint32_t kemu_identity_tlb_layout[] = {
    sizeof(struct kemu_identity_tlb),
    offsetof(struct kemu_identity_tlb, read),
    offsetof(struct kemu_identity_tlb, ctl),
    offsetof(struct kemu_identity_tlb, code_pages),
    offsetof(struct kemu_identity_tlb, pages),
    offsetof(struct kemu_identity_tlb, cr0),
    offsetof(struct kemu_identity_tlb, flush_control),
    offsetof(struct kemu_identity_tlb, paging_seen),
    offsetof(struct kemu_identity_tlb, error),
    offsetof(struct kemu_identity_tlb, fills),
};
const uint32_t kemu_identity_tlb_layout_length = sizeof(kemu_identity_tlb_layout) / sizeof(kemu_identity_tlb_layout[0]);

/* uc_mem_type and uc_prot values of unicorn.h */
#define KEMU_UC_MEM_FETCH 18
#define KEMU_UC_PROT_RW 3
#define KEMU_UC_PROT_ALL 7
#define KEMU_CR0_PG 0x80000000u
/* Far above any TLB size the working set fills (flushing sooner throws the working set away). */
#define KEMU_TLB_RESIZE_FILLS 65536

struct kemu_tlb_entry { uint64_t paddr; int perms; }; /* uc_tlb_entry */

bool kemu_identity_tlb_fill(void *uc, uint64_t address, int type, struct kemu_tlb_entry *result,
                            struct kemu_identity_tlb *t) {
    uint64_t cr0 = 0;
    int err = t->read(uc, t->cr0, &cr0);
    if (err != 0 || (cr0 & KEMU_CR0_PG)) {
        t->error = err;
        t->paging_seen = 1;
        return false; /* refused: Unicorn stops before this access, Java switches to the CPU's page walk */
    }
    uint64_t page = address >> 12;
    result->paddr = address;
    if (page >= t->pages) {
        result->perms = KEMU_UC_PROT_ALL; /* beyond the map (devices, nothing): stores stay watched */
        return true;
    }
    uint8_t bit = (uint8_t) (1u << (page & 7));
    bool first_fetch = type == KEMU_UC_MEM_FETCH && !(t->code_pages[page >> 3] & bit);
    if (first_fetch) {
        t->code_pages[page >> 3] |= bit; /* and below, drop the read-write entries of this page before code runs */
    }
    if (first_fetch || ++t->fills >= KEMU_TLB_RESIZE_FILLS) {
        t->fills = 0;
        t->ctl(uc, t->flush_control);
    }
    result->perms = (t->code_pages[page >> 3] & bit) ? KEMU_UC_PROT_ALL : KEMU_UC_PROT_RW;
    return true;
}
