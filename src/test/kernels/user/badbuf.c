/* Ring 3: hands write a buffer in no VMA of its space. The kernel faults on it inside the system
 * call and kills the process; nothing after the call runs. */
#include "ulib.h"

int main(void) {
    print("badbuf: writing from an unmapped buffer\n");
    write(1, (const void *) 0x10000000, 16);
    print("badbuf: the write returned\n");
    return 0;
}
