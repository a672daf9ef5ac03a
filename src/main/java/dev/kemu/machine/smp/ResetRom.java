package dev.kemu.machine.smp;

import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

/**
 * How an application processor's engine gets into the state INIT leaves a CPU in: real mode, halted,
 * waiting for a STARTUP IPI. A 64-bit engine's registers cannot be set to real mode from the host
 * (Unicorn writes a segment register's selector, not its hidden base and flags), so the engine gets there
 * itself, the architectural way, by running a stub from a private "reset ROM" at {@link #BASE} (mapped
 * only in that engine, in the flash window a PC has below 4 GiB; guest RAM never reaches it): it enables
 * paging over the ROM's own identity map, leaves long mode through a 32-bit segment, switches to a
 * 16-bit segment whose base is the ROM, clears CR0.PE and halts, with CS's hidden base still the ROM's,
 * as a CPU's after reset (F000:FFF0 with base FFFF0000). A STARTUP IPI then writes its vector into the
 * far jump that follows the {@code hlt} and the CPU resumes there, landing at {@code VV00:0000} with
 * CS's base {@code VV000}, exactly as the IPI specifies. That far jump is the one instruction the
 * AP runs before its trampoline.
 *
 * <pre>
 *   +0x000  stub (64-bit, then 32-bit, then 16-bit code), hlt at +0x70, jmp far 0000:0000 at +0x71
 *   +0x078  GDT: null, 0x08 32-bit code base 0, 0x10 16-bit code base 0xffff0000, 0x18 16-bit data base 0
 *   +0x098  GDTR          +0x1000 PML4   +0x2000 PDPT   +0x3000 PD (one 2 MiB page over 0xffe00000)
 * </pre>
 */
final class ResetRom {
    static final long BASE = 0xffff0000L;
    static final long SIZE = 0x4000;
    /** The IP of the far jump after the hlt (relative to CS's base, the ROM). */
    static final long STARTUP_IP = 0x71;
    private static final int JUMP_SELECTOR = 0x74;
    private static final long STACK_TOP = BASE + 0x1000;

    // Assembled from this stub (GNU as, Intel syntax), bytes after each group:
    //   .code64  mov eax, 0xffff1000; mov cr3, rax; mov eax, 0x20; mov cr4, rax (PAE)
    //            mov eax, 0x80000011; mov cr0, rax (PG: real long mode); lgdt [rip+gdtr]
    //            push 0x08; lea rax, [rip+compat]; push rax; retfq
    //   .code32  compat: mov eax, 0x11; mov cr0, eax (PG off: LMA clears); mov ecx, 0xc0000080;
    //            xor eax, eax; xor edx, edx; wrmsr (EFER = 0); mov cr4, eax; mov cr3, eax; ljmp 0x10, 0x4b
    //   .code16  mov ax, 0x18; mov ds/es/ss/fs/gs, ax; mov eax, 0x10; mov cr0, eax (PE off: real mode)
    //            xor ax, ax; mov ds/es/ss/fs/gs, ax; xor esp, esp; hlt; ljmp 0x0000, 0x0000
    private static final byte[] STUB = bytes(
            0xb8, 0x00, 0x10, 0xff, 0xff, 0x0f, 0x22, 0xd8, 0xb8, 0x20, 0x00, 0x00, 0x00, 0x0f, 0x22, 0xe0,
            0xb8, 0x11, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, 0x0f, 0x01, 0x15, 0x79, 0x00, 0x00, 0x00, 0x6a,
            0x08, 0x48, 0x8d, 0x05, 0x03, 0x00, 0x00, 0x00, 0x50, 0x48, 0xcb, 0xb8, 0x11, 0x00, 0x00, 0x00,
            0x0f, 0x22, 0xc0, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x30, 0x0f, 0x22,
            0xe0, 0x0f, 0x22, 0xd8, 0xea, 0x4b, 0x00, 0x00, 0x00, 0x10, 0x00, 0xb8, 0x18, 0x00, 0x8e, 0xd8,
            0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, 0x66, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x0f, 0x22,
            0xc0, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x8e, 0xe0, 0x8e, 0xe8, 0x66, 0x31, 0xe4,
            0xf4, 0xea, 0x00, 0x00, 0x00, 0x00, 0x66, 0x90,
            // GDT at +0x78
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0x9b, 0x00, 0xff,
            0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0x00, 0x00,
            // GDTR at +0x98: limit 31, base 0xffff0078
            0x1f, 0x00, 0x78, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00);

    private ResetRom() {}

    /** Maps the ROM into {@code engine} (once, right after the engine is made). */
    static void map(Unicorn engine) {
        engine.memMap(BASE, SIZE, Prot.ALL);
        engine.memWrite(BASE, STUB);
        writeEntry(engine, BASE + 0x1000, BASE + 0x2000 | 0x3);      // PML4[0] -> PDPT
        writeEntry(engine, BASE + 0x2000 + 3 * 8, BASE + 0x3000 | 0x3); // PDPT[3]: 3-4 GiB -> PD
        writeEntry(engine, BASE + 0x3000 + 511 * 8, 0xffe00000L | 0x83); // PD[511]: 2 MiB page, RW, present
    }

    private static void writeEntry(Unicorn engine, long at, long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        engine.memWrite(at, bytes);
    }

    /**
     * Puts {@code machine}'s CPU (whose context is already its power-on one) into the wait-for-SIPI state.
     * Returns false if the stub did not end where it should (a broken engine: the caller says so).
     */
    static boolean enterWaitForStartup(Machine machine) {
        machine.setRegister(X86Reg.RSP, STACK_TOP);
        machine.run(BASE, RunLimits.UNCOUNTED);
        return machine.register(X86Reg.RIP) == STARTUP_IP && (machine.register(X86Reg.CR0) & 1) == 0;
    }

    /** Aims the far jump after the hlt at {@code vector << 8 : 0000}, the STARTUP IPI's entry point. */
    static void aimStartup(Unicorn engine, int vector) {
        int selector = (vector & 0xff) << 8;
        engine.memWrite(BASE + JUMP_SELECTOR, new byte[]{(byte) selector, (byte) (selector >>> 8)});
        engine.removeTranslationCache(BASE, BASE + 0x100); // the jump's old bytes may be translated
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }
}
