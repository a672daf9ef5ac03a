package dev.kemu.machine;

import dev.kemu.unicorn.Context;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SMAP against Unicorn's MMU. The default model (Haswell, what {@link Machine} runs) has no SMAP,
 * so this uses a raw engine with the Broadwell model, which has it: a supervisor read or write of
 * a user page faults under CR4.SMAP unless RFLAGS.AC is set, as the walker says.
 */
class SmapOnBroadwellTest {
    private static final int UC_CPU_X86_BROADWELL = 20;
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000, CODE = 0x10000, USER_PAGE = 0x20000;

    @ParameterizedTest(name = "{0}, RFLAGS.AC {1}")
    @CsvSource({"READ, false", "READ, true", "WRITE, false", "WRITE, true"})
    void supervisorAccessToUserPage_withSmap_faultsUnlessAc_likeTheWalkerSays(Access.Kind kind, boolean ac) {
        try (Arena arena = Arena.ofConfined(); Unicorn uc = Unicorn.openX86_64()) {
            uc.setCpuModel(UC_CPU_X86_BROADWELL);
            GuestRam ram = new GuestRam(arena.allocate(1 << 20, 4096));
            uc.memMapPtr(0, ram.segment(), Prot.ALL);
            long table = PageTableEntry.PRESENT | PageTableEntry.WRITABLE | PageTableEntry.USER;
            ram.write64(PML4, PDPT | table);
            ram.write64(PDPT, PD | table);
            ram.write64(PD, PT | table);
            ram.write64(PT + 8 * (CODE >> 12), CODE | PageTableEntry.PRESENT); // supervisor code
            ram.write64(PT + 8 * (USER_PAGE >> 12), USER_PAGE | table);
            ram.write64(USER_PAGE + 0x40, 0x1234_5678L);
            byte[] access = kind == Access.Kind.READ ? new byte[]{0x48, (byte) 0x8B, 0x03} : new byte[]{0x48, (byte) 0x89, 0x03};
            ram.write(CODE, new byte[]{0x0F, 0x22, (byte) 0xE2}); // mov cr4, rdx (a guest load keeps only what the model has)
            ram.write(CODE + 3, access);                            // mov rax, [rbx] / mov [rbx], rax
            ram.write(CODE + 6, new byte[]{(byte) 0xCC});           // int3
            uc.regWrite(X86Reg.CR3, PML4);
            uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
            uc.writeMsr(X86Reg.MSR_EFER, uc.readMsr(X86Reg.MSR_EFER) | CpuState.EFER_NXE);
            uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG | CpuState.CR0_WP);
            uc.regWrite(X86Reg.RDX, uc.regRead(X86Reg.CR4) | PagingMode.CR4_SMAP);
            uc.regWrite(X86Reg.RBX, USER_PAGE + 0x40);
            uc.regWrite(X86Reg.RAX, 0x77);
            uc.regWrite(X86Reg.RFLAGS, 2 | (ac ? PagingMode.RFLAGS_AC : 0));
            int[] seen = {-1, -1};
            uc.hookInterrupt((engine, vector) -> {
                seen[0] = vector;
                try (Context inside = engine.contextSave()) {
                    seen[1] = ExceptionState.get().errorCode(inside);
                }
                engine.stop();
            });
            uc.start(CODE, CODE + 0x100, 0, 10);

            PagingMode mode = PagingMode.of(uc.regRead(X86Reg.CR0), uc.regRead(X86Reg.CR4), uc.readMsr(X86Reg.MSR_EFER),
                    uc.regRead(X86Reg.RFLAGS));
            assertTrue(mode.smap(), "Broadwell keeps CR4.SMAP");
            AccessVerdict verdict = new PageWalker(ram).walk(PML4, VirtAddr.of(USER_PAGE + 0x40),
                    Access.of(kind, Access.Mode.SUPERVISOR), mode).verdict();
            if (ac) {
                assertInstanceOf(AccessVerdict.Allowed.class, verdict);
                assertEquals(ExceptionVector.BP, seen[0], "the access went through to the int3");
            } else {
                AccessVerdict.PageFault fault = assertInstanceOf(AccessVerdict.PageFault.class, verdict);
                assertEquals(AccessVerdict.Cause.SMAP, fault.cause());
                assertEquals(ExceptionVector.PF, seen[0]);
                assertEquals(PageFaultCode.describe(fault.errorCode()), PageFaultCode.describe(seen[1]));
                assertEquals(USER_PAGE + 0x40, uc.regRead(X86Reg.CR2));
            }
        }
    }
}
