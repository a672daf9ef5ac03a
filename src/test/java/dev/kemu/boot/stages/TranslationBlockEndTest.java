package dev.kemu.boot.stages;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.machine.StopReason;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the boot observer's block sampling rests on, checked on the emulated CPU: a write to CR0,
 * CR3 or CR4 ends the translation block, so the next block starts right after it and sees the new
 * value; wrmsr does not end one in libunicorn 2.1.4, which is why no stage waits for an EFER write
 * (EFER.LMA changes only with CR0.PG, and 64-bit mode only with a far jump, both of which end a block).
 */
class TranslationBlockEndTest {
    private static final long CODE = 0x1000;
    private static final byte[] PROGRAM = {
            0x0F, 0x20, (byte) 0xE0,                    // 0x1000 mov rax, cr4
            0x48, 0x0D, 0x00, 0x02, 0x00, 0x00,         // 0x1003 or rax, 0x200 (OSFXSR)
            0x0F, 0x22, (byte) 0xE0,                    // 0x1009 mov cr4, rax
            (byte) 0x90,                                // 0x100c nop
            0x0F, 0x20, (byte) 0xC0,                    // 0x100d mov rax, cr0
            0x48, 0x0D, 0x00, 0x00, 0x01, 0x00,         // 0x1010 or rax, 0x10000 (WP)
            0x0F, 0x22, (byte) 0xC0,                    // 0x1016 mov cr0, rax
            (byte) 0x90,                                // 0x1019 nop
            (byte) 0xB8, 0x00, 0x50, 0x00, 0x00,        // 0x101a mov eax, 0x5000
            0x0F, 0x22, (byte) 0xD8,                    // 0x101f mov cr3, rax
            (byte) 0x90,                                // 0x1022 nop
            (byte) 0xB9, (byte) 0x80, 0x00, 0x00, (byte) 0xC0, // 0x1023 mov ecx, 0xC0000080 (EFER)
            0x0F, 0x32,                                 // 0x1028 rdmsr
            0x0D, 0x00, 0x08, 0x00, 0x00,               // 0x102a or eax, 0x800 (NXE)
            0x0F, 0x30,                                 // 0x102f wrmsr
            (byte) 0x90,                                // 0x1031 nop
            (byte) 0xF4};                               // 0x1032 hlt

    private record Sample(long address, long cr0, long cr3, long cr4) {}

    @Test
    void controlRegisterWrites_endTheBlock_andTheNextBlockSeesTheNewValue_butWrmsrDoesNot() {
        List<Sample> blocks = new ArrayList<>();
        try (Machine machine = new Machine(1 << 20)) {
            machine.ram().write(CODE, PROGRAM);
            var registers = machine.registers(X86Reg.CR0, X86Reg.CR3, X86Reg.CR4);
            long[] values = new long[3];
            try (Machine.Subscription hook = machine.onBlock((address, size) -> {
                registers.read(values);
                blocks.add(new Sample(address, values[0], values[1], values[2]));
            })) {
                assertEquals(StopReason.HALTED, machine.run(CODE, RunLimits.UNCOUNTED).reason());
            }
        }
        List<Long> starts = blocks.stream().map(Sample::address).toList();
        assertEquals(List.of(CODE, 0x100cL, 0x1019L, 0x1022L), starts.subList(0, 4), hex(starts));
        assertFalse(starts.contains(0x1031L), "wrmsr ended a block: " + hex(starts));
        assertEquals(0x200, blocks.get(1).cr4() & 0x200, "CR4 as written, at the next block");
        assertEquals(CpuState.CR0_WP, blocks.get(2).cr0() & CpuState.CR0_WP, "CR0 as written, at the next block");
        assertEquals(0x5000, blocks.get(3).cr3(), "CR3 as written, at the next block");
        assertTrue(blocks.get(0).cr3() != 0x5000);
    }

    private static String hex(List<Long> addresses) {
        return addresses.stream().map(Long::toHexString).toList().toString();
    }
}
