/* Ring 3: fork, then parent and child each write their own value to the same variable, yield so the
 * other writes too, and print what they see: different values prove the pages were copied on write.
 * The parent then grows its heap with brk and uses it. Exit statuses: parent 0, child 2. */
#include "ulib.h"

static volatile long shared = 1; /* .data: private and writable, so shared copy-on-write after fork */

int main(void) {
    print("fork: hello from ring 3, pid ");
    print_number(getpid(), 10);
    print("\n");
    long child = fork();
    if (child < 0) {
        print("fork: fork failed\n");
        return 1;
    }
    if (child == 0) {
        shared = 2;
        sched_yield(); /* the parent writes its value meanwhile */
        print("fork: child pid ");
        print_number(getpid(), 10);
        print(" sees shared = ");
        print_number(shared, 10);
        print("\n");
        return 2;
    }
    shared = 3;
    sched_yield();
    print("fork: parent of pid ");
    print_number(child, 10);
    print(" sees shared = ");
    print_number(shared, 10);
    print("\n");

    char *heap = (char *) brk(0);
    char *end = (char *) brk(heap + 8192);
    if (end != heap + 8192) {
        print("fork: brk failed\n");
        return 1;
    }
    for (int i = 0; i < 8192; i++) {
        heap[i] = (char) i;
    }
    long sum = 0;
    for (int i = 0; i < 8192; i++) {
        sum += (unsigned char) heap[i];
    }
    print("fork: brk grew the heap at ");
    print_number((unsigned long) heap, 16);
    print(" by 8192 bytes, byte sum ");
    print_number(sum, 10);
    print("\n");
    return 0;
}
