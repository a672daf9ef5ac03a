package dev.kemu.machine;

import dev.kemu.unicorn.HookType;
import dev.kemu.unicorn.Prot;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.X86Reg;

import java.util.ArrayList;
import java.util.List;

/**
 * Which address this libunicorn passes {@code UC_HOOK_MEM_WRITE} for a guest store under
 * paging: libunicorn 2.1.4 passes the physical one ({@code store_helper} reports
 * {@code entry->paddr | offset}, upstream pull request 1836), older builds the virtual one.
 * Found once per process by a two-page probe in a scratch engine, not assumed from a version:
 * V0x5000 is mapped to P0x6000 and one store to V0x5008 tells which of the two arrives.
 */
enum WriteHookAddress {
    PHYSICAL, VIRTUAL;

    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000,
            STORE_PAGE = 0x5000, BACKING_PAGE = 0x6000, CODE = 0x7000, OFFSET = 8;

    /** The calibrated answer for the loaded libunicorn (probed on first use, once per process). */
    static WriteHookAddress get() {
        return Probed.ANSWER;
    }

    /** Holds the answer: the JVM runs the probe once, on first access, thread-safely. */
    private static final class Probed {
        static final WriteHookAddress ANSWER = probe();
    }

    private static WriteHookAddress probe() {
        try (Unicorn uc = Unicorn.openX86_64()) {
            uc.memMap(0, 0x8000 + 0x1000, Prot.ALL);
            Calibration.write64(uc, PML4, PDPT | 3);
            Calibration.write64(uc, PDPT, PD | 3);
            Calibration.write64(uc, PD, PT | 3);
            Calibration.write64(uc, PT + 8 * (STORE_PAGE >> 12), BACKING_PAGE | 3); // the two pages differ
            Calibration.write64(uc, PT + 8 * (CODE >> 12), CODE | 1);
            // mov qword ptr [0x5008], rax; hlt
            uc.memWrite(CODE, new byte[]{0x48, (byte) 0x89, 0x04, 0x25, (byte) (STORE_PAGE + OFFSET), 0x50, 0, 0,
                    (byte) 0xf4});
            uc.regWrite(X86Reg.CR3, PML4);
            uc.regWrite(X86Reg.CR4, uc.regRead(X86Reg.CR4) | CpuState.CR4_PAE);
            uc.regWrite(X86Reg.CR0, uc.regRead(X86Reg.CR0) | CpuState.CR0_PG);
            List<Long> seen = new ArrayList<>();
            uc.hookMem(HookType.MEM_WRITE, 1, 0, (engine, type, address, size, value) -> seen.add(address));
            uc.start(CODE, CODE + 8, 0, 0);
            return classify(seen);
        }
    }

    /** The verdict for the addresses the probe's hook saw (exactly one store was made). */
    static WriteHookAddress classify(List<Long> seen) {
        if (seen.equals(List.of(BACKING_PAGE + OFFSET))) {
            return PHYSICAL;
        }
        if (seen.equals(List.of(STORE_PAGE + OFFSET))) {
            return VIRTUAL;
        }
        throw new IllegalStateException(String.format("cannot tell which address this libunicorn's write hook reports:"
                + " one store to V0x%x (mapped to P0x%x) arrived as %s; expected exactly one of those two addresses."
                + " Dirty-page tracking needs to know; use libunicorn 2.1.x", STORE_PAGE + OFFSET, BACKING_PAGE + OFFSET,
                seen.stream().map(a -> "0x" + Long.toHexString(a)).toList()));
    }
}
