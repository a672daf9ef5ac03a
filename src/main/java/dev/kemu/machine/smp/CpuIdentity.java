package dev.kemu.machine.smp;

import dev.kemu.machine.Machine;
import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.X86Insn;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

/**
 * What {@code cpuid} tells one CPU about itself and its siblings, the way QEMU answers for {@code -smp N}
 * (N cores of one thread in one package). Everything else comes from Unicorn's CPU model ({@link NativeCpuid}),
 * with these leaves changed:
 *
 * <pre>
 *   leaf 1    EBX[31:24] initial APIC ID; EBX[23:16] logical processors per package and EDX.HTT (bit 28),
 *             both only when N > 1, as QEMU; ECX.x2APIC (bit 21) cleared (kemu's APIC is xAPIC only);
 *             ECX.OSXSAVE (bit 27) follows CR4.OSXSAVE, as the hardware's does
 *   leaf 4    EAX[31:26] cores per package - 1
 *   leaf 0xB  subleaf 0 (SMT): shift 0, 1 thread; subleaf 1 (core): shift ceil(log2 N), N processors;
 *             EDX the x2APIC ID (= the APIC ID); higher subleaves invalid (leaf 0xB only if the model has it)
 * </pre>
 *
 * The hook fires only on {@code cpuid}, so it costs nothing elsewhere.
 */
public final class CpuIdentity {
    static final int ECX_X2APIC = 1 << 21, ECX_XSAVE = 1 << 26, ECX_OSXSAVE = 1 << 27, EDX_HTT = 1 << 28;
    private static final long CR4_OSXSAVE = 1L << 18;
    private static final int LEVEL_SMT = 1 << 8, LEVEL_CORE = 2 << 8;

    private final int apicId;
    private final int cpus;
    private final int maxLeaf;

    CpuIdentity(int apicId, int cpus) {
        this.apicId = apicId;
        this.cpus = cpus;
        this.maxLeaf = NativeCpuid.of(0, 0).eax();
    }

    /** Makes {@code machine}'s CPU answer as CPU {@code apicId} of {@code cpus}; closing the handle restores the model's answers. */
    public static HookHandle install(Machine machine, int apicId, int cpus) {
        if (apicId < 0 || apicId >= cpus || cpus > 255) {
            throw new IllegalArgumentException("APIC ID " + apicId + " of " + cpus + " CPUs: IDs run from 0 to N-1, N <= 255");
        }
        CpuIdentity identity = new CpuIdentity(apicId, cpus);
        return machine.engine().hookSkippable(X86Insn.CPUID, identity::answer);
    }

    /** The registers this CPU's {@code cpuid} returns for {@code leaf}/{@code subleaf} with CR4 = {@code cr4}, or null for the model's own answer. */
    NativeCpuid.Result answer(int leaf, int subleaf, long cr4) {
        if (leaf == 1) {
            NativeCpuid.Result model = NativeCpuid.of(1, 0);
            int ebx = (model.ebx() & 0xffff) | apicId << 24 | (cpus > 1 ? cpus << 16 : 0);
            int ecx = model.ecx() & ~ECX_X2APIC & ~ECX_OSXSAVE;
            if ((model.ecx() & ECX_XSAVE) != 0 && (cr4 & CR4_OSXSAVE) != 0) {
                ecx |= ECX_OSXSAVE;
            }
            int edx = cpus > 1 ? model.edx() | EDX_HTT : model.edx() & ~EDX_HTT;
            return new NativeCpuid.Result(model.eax(), ebx, ecx, edx);
        }
        if (leaf == 4 && maxLeaf >= 4) {
            NativeCpuid.Result model = NativeCpuid.of(4, subleaf);
            if ((model.eax() & 0x1f) == 0) {
                return model; // no cache at this subleaf: all zero
            }
            return new NativeCpuid.Result((model.eax() & 0x03ffffff) | (cpus - 1) << 26, model.ebx(), model.ecx(), model.edx());
        }
        if (leaf == 0xb && maxLeaf >= 0xb) {
            return switch (subleaf) {
                case 0 -> new NativeCpuid.Result(0, 1, LEVEL_SMT, apicId);
                case 1 -> new NativeCpuid.Result(bitsFor(cpus), cpus, 1 | LEVEL_CORE, apicId);
                default -> new NativeCpuid.Result(0, 0, subleaf & 0xff, apicId);
            };
        }
        return null;
    }

    /** ceil(log2(n)): the APIC ID bits that number n cores. */
    static int bitsFor(int n) {
        return n <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(n - 1);
    }

    private boolean answer(Unicorn uc) {
        int leaf = (int) uc.regRead(X86Reg.EAX);
        int subleaf = (int) uc.regRead(X86Reg.RCX);
        NativeCpuid.Result result = answer(leaf, subleaf, uc.regRead(X86Reg.CR4));
        if (result == null) {
            return false;
        }
        uc.regWrite(X86Reg.RAX, Integer.toUnsignedLong(result.eax()));
        uc.regWrite(X86Reg.RBX, Integer.toUnsignedLong(result.ebx()));
        uc.regWrite(X86Reg.RCX, Integer.toUnsignedLong(result.ecx()));
        uc.regWrite(X86Reg.RDX, Integer.toUnsignedLong(result.edx()));
        return true;
    }
}
