"""The hypercall round trip through Unicorn's own Python binding, on the same guest loop
(bench/guest/loops.S) as the C and Java drivers. Prints "python_hypercall_ns min median ns"."""
import statistics
import sys
import time

from unicorn import Uc, UC_ARCH_X86, UC_MODE_64, UC_HOOK_INSN, UC_PROT_ALL
from unicorn.x86_const import UC_X86_INS_OUT, UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDI, UC_X86_REG_RSI

CODE = 0x10000
CALLS = 100_000


def on_out(uc, port, size, value, user_data):
    if port == 0xE6:
        uc.reg_write(UC_X86_REG_RAX, uc.reg_read(UC_X86_REG_RDI) + uc.reg_read(UC_X86_REG_RSI))


def main():
    loops = open(sys.argv[1], "rb").read()
    uc = Uc(UC_ARCH_X86, UC_MODE_64)
    uc.mem_map(0, 16 << 20, UC_PROT_ALL)
    uc.mem_write(CODE, loops)
    uc.hook_add(UC_HOOK_INSN, on_out, None, 1, 0, UC_X86_INS_OUT)
    samples = []
    for rep in range(6):
        uc.reg_write(UC_X86_REG_RCX, CALLS)
        started = time.perf_counter_ns()
        uc.emu_start(CODE + 0x100, 0)
        if rep > 0:
            samples.append((time.perf_counter_ns() - started) / CALLS)
    print(f"python_hypercall_ns {min(samples):.1f} {statistics.median(samples):.1f} ns")


main()
