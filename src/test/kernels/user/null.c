/* Ring 3: reads through a NULL pointer. The kernel's #PF handler kills the process; nothing after
 * the load runs. */
#include "ulib.h"

int main(void) {
    print("null: reading through a NULL pointer\n");
    long *pointer;
    __asm__("" : "=r"(pointer) : "0"(0L)); /* a NULL the compiler cannot see, so it emits a real load */
    long value = *(volatile long *) pointer;
    print("null: survived the NULL dereference\n");
    return (int) value;
}
