package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;

/**
 * A copy of the CPU registers that describe mode and position, plus the sixteen
 * general-purpose registers (in {@link X86Reg#GPRS} order).
 */
public record CpuState(long rip, long rflags, long cr0, long cr2, long cr3, long cr4, long efer, int cs, int ss,
                       DescriptorTable gdtr, DescriptorTable idtr, long[] gprs) {
    public static final long CR0_PE = 1, CR0_WP = 1L << 16, CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8, EFER_LMA = 1L << 10, EFER_NXE = 1L << 11;
    public static final long RFLAGS_IF = 1L << 9;

    public boolean pagingEnabled() {
        return (cr0 & CR0_PG) != 0;
    }

    public boolean protectedMode() {
        return (cr0 & CR0_PE) != 0;
    }

    public boolean longModeActive() {
        return (efer & EFER_LMA) != 0;
    }

    public long rax() { return gprs[0]; }
    public long rcx() { return gprs[1]; }
    public long rdx() { return gprs[2]; }
    public long rbx() { return gprs[3]; }
    public long rsp() { return gprs[4]; }
    public long rsi() { return gprs[6]; }
    public long rdi() { return gprs[7]; }
    public long rbp() { return gprs[5]; }

    public long gpr(int register) {
        for (int i = 0; i < X86Reg.GPRS.length; i++) {
            if (X86Reg.GPRS[i] == register) {
                return gprs[i];
            }
        }
        throw new IllegalArgumentException("not a general-purpose register id: " + register);
    }

    /** The mode/position registers on one line, as the boot trace prints them. */
    public String summary() {
        return String.format("RIP=0x%016x CR0=0x%08x CR3=0x%08x CR4=0x%08x EFER=0x%04x CS=0x%02x", rip, cr0, cr3, cr4,
                efer, cs);
    }
}
