/*
 * kemu's hypercall trampoline: Unicorn calls kemu_out_dispatch_hook for every `out`; for the hypercall
 * port it reads the six argument registers and writes RAX here, in C, around one Java upcall
 * that receives the arguments as parameters. That saves the two FFM register downcalls per
 * hypercall. Unicorn's functions arrive as pointers, so this library does not link against it.
 * Built by scripts/natives.sh; kemu falls back to a pure-Java hook when it is absent.
 *
 * A failing Unicorn call is never ignored: the hook records it in the dispatch block and tells
 * Java through `failed`, which stops the emulation and makes uc_emu_start's caller throw an
 * exception naming the call and Unicorn's error. A hypercall whose arguments could not be read
 * is not made.
 */
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
    int64_t a[6] = {0, 0, 0, 0, 0, 0};
    void *slots[6] = {&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]};
    int err = d->read_batch(uc, d->arguments, slots, 6);
    if (err != 0) {
        fail(d, KEMU_CALL_REG_READ_BATCH, err);
        return;
    }
    int64_t result = d->hypercall(d->receiver, value & 0xff, a[0], a[1], a[2], a[3], a[4], a[5]);
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

/* Mirrored by the StructLayout in dev.kemu.machine.NativeCounter, checked against the table below. */
struct kemu_counter {
    uint64_t in_quantum;    /* instructions of the quantum so far */
    uint64_t limit;         /* the quantum ends before the instruction past this many */
    uint64_t last_address;  /* the last instruction that ran */
    emu_stop_fn stop;       /* uc_emu_stop */
    watch_fn watch;         /* Java: a short instruction while an interrupt waits for IF */
    uint64_t receiver;      /* which machine the Java side belongs to */
    int32_t watching;       /* 1 while an interrupt waits for IF */
    int32_t limit_hit;      /* set when the quantum ended at its limit */
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
