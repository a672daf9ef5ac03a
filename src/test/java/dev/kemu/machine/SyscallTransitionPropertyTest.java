package dev.kemu.machine;

import dev.kemu.unicorn.X86Reg;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * kemu's syscall against the SDM's pseudocode as a reference model, for random RFLAGS, FMASK and
 * addresses at CPL 0: RCX = RIP + 2, R11 = RFLAGS, RFLAGS = (RFLAGS & ~FMASK) | 2, RIP = LSTAR.
 */
class SyscallTransitionPropertyTest {
    /** The RFLAGS bits a bare CPL-0 machine can hold without trapping: CF PF AF ZF SF IF DF OF NT AC. */
    private static final long SETTABLE = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800 | 0x4000 | 0x40000;
    // entry: mov rax, rcx ; mov rdx, r11 ; hlt
    private static final byte[] ENTRY = {0x48, (byte) 0x89, (byte) 0xC8, 0x4C, (byte) 0x89, (byte) 0xDA, (byte) 0xF4};

    @Property(tries = 60)
    void syscall_matchesTheSdmModel(@ForAll long flagBits, @ForAll long fmask,
                                    @ForAll @IntRange(min = 1, max = 0x7e) int callerPage,
                                    @ForAll @IntRange(min = 0, max = 0xff0) int callerOffset,
                                    @ForAll @LongRange(min = 0x80, max = 0xfe) long entryPage) {
        long rflags = flagBits & SETTABLE | 0x2;
        long caller = (long) callerPage << 12 | callerOffset, lstar = entryPage << 12;
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(caller, new byte[]{0x0F, 0x05});
            machine.ram().write(lstar, ENTRY);
            machine.setMsr(X86Reg.MSR_EFER, machine.msr(X86Reg.MSR_EFER) | SyscallInstruction.EFER_SCE);
            machine.setMsr(SyscallInstruction.MSR_LSTAR, lstar);
            machine.setMsr(SyscallInstruction.MSR_FMASK, fmask & 0xffff_ffffL); // the upper half is reserved
            machine.setRegister(X86Reg.RFLAGS, rflags);

            RunResult result = machine.run(caller, lstar + ENTRY.length - 1, RunLimits.budget(10));

            assertEquals(StopReason.REACHED_END, result.reason(), result.detail());
            assertEquals(caller + 2, result.cpu().rax(), "RCX");
            assertEquals(rflags, result.cpu().rdx(), "R11");
            assertEquals((rflags & ~fmask) | 0x2, result.cpu().rflags() & 0x3f_ffffL, "RFLAGS");
        }
    }
}
