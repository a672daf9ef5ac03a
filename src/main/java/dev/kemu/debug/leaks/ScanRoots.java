package dev.kemu.debug.leaks;

import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import dev.kemu.machine.CpuState;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the leak scan starts, as kmemleak's roots: the kernel image's writable data (.data and .bss,
 * its writable PT_LOAD segments), each CPU's registers and the live part of its stack, and any
 * other range a caller names (the test harness's code page, for instance). Ranges are virtual,
 * read through {@code cr3}'s page tables; unmapped pages are skipped.
 */
public record ScanRoots(long cr3, List<Range> ranges, List<Long> registers) {
    /** {@code [start, end)} of virtual memory, named for the report. */
    public record Range(String name, long start, long end) {}

    /** THREAD_SIZE: a stack is scanned from RSP to the end of its 16 KiB-aligned block. */
    public static final long STACK_BLOCK = 16 << 10;

    public ScanRoots {
        ranges = List.copyOf(ranges);
        registers = List.copyOf(registers);
    }

    public static Builder builder(long cr3) {
        return new Builder(cr3);
    }

    /** Collects roots; each call adds to what is there. */
    public static final class Builder {
        private final long cr3;
        private final List<Range> ranges = new ArrayList<>();
        private final List<Long> registers = new ArrayList<>();

        private Builder(long cr3) {
            this.cr3 = cr3;
        }

        /** The writable PT_LOAD segments of the kernel: .data and .bss (read-only ones cannot hold a later pointer). */
        public Builder kernelData(ElfImage kernel) {
            for (Segment segment : kernel.segments()) {
                if ((segment.flags() & Segment.WRITE) != 0) {
                    ranges.add(new Range("kernel data", segment.vaddr(), segment.vaddr() + segment.memSize()));
                }
            }
            return this;
        }

        /**
         * A CPU's general-purpose registers and its stack from RSP up to {@code stackTop}
         * (exclusive; 0 = the end of RSP's {@link #STACK_BLOCK}-aligned block).
         */
        public Builder cpu(CpuState cpu, long stackTop) {
            for (long value : cpu.gprs()) {
                registers.add(value);
            }
            long rsp = cpu.rsp() & -8L;
            long top = stackTop != 0 ? stackTop : (rsp | (STACK_BLOCK - 1)) + 1;
            if (Long.compareUnsigned(rsp, top) < 0 && top - rsp <= STACK_BLOCK) {
                ranges.add(new Range("stack", rsp, top));
            }
            return this;
        }

        public Builder range(String name, long start, long end) {
            ranges.add(new Range(name, start, end));
            return this;
        }

        public ScanRoots build() {
            return new ScanRoots(cr3, ranges, registers);
        }
    }
}
