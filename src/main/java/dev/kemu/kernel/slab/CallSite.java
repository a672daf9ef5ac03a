package dev.kemu.kernel.slab;

/** Who is calling the allocator right now, for --slub-debug=U's tracks: the hypercall layer supplies it. */
public interface CallSite {
    /** Guest RIP of the call (the instruction after the hypercall's {@code out}). */
    long rip();

    /** The machine's instruction count at the call. */
    long instructions();

    int cpu();

    /** Java callers (tests, the kernel's own set-up): no guest site. */
    CallSite HOST = new CallSite() {
        public long rip() {
            return 0;
        }

        public long instructions() {
            return 0;
        }

        public int cpu() {
            return 0;
        }
    };
}
