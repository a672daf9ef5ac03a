/*
 * kemu's hypercall trampoline: Unicorn calls kemu_out_hook for every `out`; for the hypercall
 * port it reads the six argument registers and writes RAX here, in C, around one Java upcall
 * that receives the arguments as parameters. That saves the two FFM register downcalls per
 * hypercall. Unicorn's functions arrive as pointers, so this library does not link against it.
 * Built by scripts/natives.sh; kemu falls back to a pure-Java hook when it is absent.
 */
#include <stdint.h>

typedef int (*reg_read_batch_fn)(void *uc, int *regs, void **values, int count);
typedef int (*reg_write_fn)(void *uc, int regid, const void *value);
typedef int64_t (*hypercall_fn)(uint64_t receiver, uint32_t number, int64_t a0, int64_t a1, int64_t a2, int64_t a3,
                                int64_t a4, int64_t a5);
typedef void (*port_out_fn)(uint64_t receiver, uint32_t port, int32_t size, uint32_t value);

/* Layout mirrored by dev.kemu.machine.NativeOutHook (offsets in its javadoc). */
struct kemu_out_dispatch {
    uint32_t hypercall_port;        /* +0  */
    int32_t rax;                    /* +4  register id of RAX */
    int32_t arguments[6];           /* +8  register ids of RDI, RSI, RDX, R10, R8, R9 */
    reg_read_batch_fn read_batch;   /* +32 uc_reg_read_batch */
    reg_write_fn write;             /* +40 uc_reg_write */
    hypercall_fn hypercall;         /* +48 Java: the service */
    port_out_fn other_port;         /* +56 Java: every other port */
    uint64_t receiver;              /* +64 which machine the Java side dispatches to */
};

void kemu_out_hook(void *uc, uint32_t port, int size, uint32_t value, struct kemu_out_dispatch *d) {
    if (port != d->hypercall_port) {
        d->other_port(d->receiver, port, size, value);
        return;
    }
    int64_t a[6] = {0, 0, 0, 0, 0, 0};
    void *slots[6] = {&a[0], &a[1], &a[2], &a[3], &a[4], &a[5]};
    d->read_batch(uc, d->arguments, slots, 6);
    int64_t result = d->hypercall(d->receiver, value & 0xff, a[0], a[1], a[2], a[3], a[4], a[5]);
    d->write(uc, d->rax, &result);
}
