# Sourced by gdb (bench/gdb.sh): times gdb's own `stepi` and `continue` to a breakpoint inside one session,
# so that neither process start-up nor connecting enters a figure. Runs to kmain, then steps and hits
# breakpoints in kmain's first console lines, which both kemu and QEMU execute alike (the paths part in
# smp_demo's ACPI scan). The breakpoint is console_puts's loop head: one hit per character, 6 instructions
# (one of them an `out` to the debug console) between hits. The first WARM operations of each kind are not timed: they warm kemu's JIT and
# both stubs' translation caches. Prints `stepi_ms MEAN` and `hit_ms MEAN` (ms per operation).
import os
import time

import gdb

PORT = int(os.environ["GDB_PORT"])
STEPS = int(os.environ.get("GDB_STEPS", "120"))
HITS = int(os.environ.get("GDB_HITS", "40"))
WARM = int(os.environ.get("GDB_WARM", "10"))


def run(command):
    return gdb.execute(command, to_string=True)


def pc():
    return int(gdb.parse_and_eval("$pc")) & 0xFFFFFFFFFFFFFFFF


def timed(count, command, check):
    for _ in range(WARM):
        run(command)
        check()
    started = time.perf_counter()
    for _ in range(count):
        run(command)
    elapsed = time.perf_counter() - started
    check()
    return elapsed * 1000 / count


run("set pagination off")
run("set confirm off")
run("target remote 127.0.0.1:%d" % PORT)
run("break kmain")
run("continue")
kmain = int(gdb.parse_and_eval("(long) &kmain")) & 0xFFFFFFFFFFFFFFFF
if pc() != kmain:
    raise gdb.GdbError("the run stopped at %#x, not at kmain (%#x)" % (pc(), kmain))
run("delete")
stepi_ms = timed(STEPS, "stepi", lambda: None)
target = (int(gdb.parse_and_eval("(long) &console_puts")) + 1) & 0xFFFFFFFFFFFFFFFF  # after `push rdi`
run("break *%#x" % target)


def stopped_at_target():
    if pc() != target:
        raise gdb.GdbError("continue stopped at %#x, not at console_puts's loop (%#x): fewer characters "
                           "than GDB_WARM + GDB_HITS before smp_demo?" % (pc(), target))


hit_ms = timed(HITS, "continue", stopped_at_target)
print("stepi_ms %.6f" % stepi_ms)
print("hit_ms %.6f" % hit_ms)
run("kill")
