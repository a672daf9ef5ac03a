package dev.kemu.machine.exceptions;

import dev.kemu.machine.CpuState;
import dev.kemu.machine.DeliveryResult;
import dev.kemu.machine.ExceptionDelivery;
import dev.kemu.machine.ExceptionOutcome;
import dev.kemu.machine.ExceptionVector;
import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.Mmr;
import dev.kemu.unicorn.X86Reg;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The long-mode frame {@link ExceptionDelivery} pushes, against the SDM's description (vol. 3A
 * 6.14.2) for random stacks and vectors at CPL 0: the stack aligned down to 16, then SS, RSP,
 * RFLAGS, CS, RIP and, for #GP, the error code; RSP and RIP of the handler set. A stack in an
 * unmapped page raises #PF(0x2: not present, supervisor write) with CR2 at the first push.
 */
class LongModeFramePropertyTest {
    private static final long CODE = 0x10000, HANDLER_OFFSET = 0x800, IDT = 0x30000;
    private static final FlatCode SITES = assembleSites();

    private static FlatCode assembleSites() {
        try {
            return FlatCode.assemble(Files.createTempDirectory("kemu-frame"), "sites", CODE, """
                    .code64
                    de: xor ecx, ecx
                        div ecx
                    ud: ud2
                    gp: movabs rax, 0x8000000000000000
                        mov rbx, [rax]
                    .org 0x800
                    handler: hlt
                    """);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Provide
    Arbitrary<Long> stacks() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0x40000, 0x7ffff),
                Arbitraries.longs().between(0x200100, 0x3fff00)); // PD entry 1 is empty: not mapped
    }

    @Property(tries = 60)
    void frameIsTheArchitecturesAtTheAlignedStack(@ForAll("stacks") long rsp, @ForAll("sites") String site) {
        try (Machine machine = UnicornExceptionReportTest.pagedLongMode()) {
            SITES.load(machine);
            long cs = machine.register(X86Reg.CS); // kemu delivers into the code segment the kernel runs in
            for (int vector : new int[]{ExceptionVector.DE, ExceptionVector.UD, ExceptionVector.GP}) {
                long gate = IDT + 16L * vector, handler = CODE + HANDLER_OFFSET;
                machine.ram().write64(gate, (handler & 0xffff) | (cs << 16) | (0x8EL << 40)
                        | ((handler >>> 16) << 48));
                machine.ram().write64(gate + 8, handler >>> 32);
            }
            machine.engine().writeMmr(X86Reg.IDTR, new Mmr(0, IDT, 256 * 16 - 1, 0));
            machine.setRegister(X86Reg.RSP, rsp);
            List<CpuState> atFault = new ArrayList<>();
            List<DeliveryResult> results = new ArrayList<>();
            machine.setExceptionHandler((m, e) -> {
                atFault.add(m.cpu());
                results.add(ExceptionDelivery.deliver(m, e));
                return ExceptionOutcome.STOP;
            });
            machine.run(SITES.at(site), RunLimits.budget(100));
            CpuState before = atFault.getFirst();
            long aligned = rsp & ~0xfL;
            boolean error = site.equals("gp");
            if (rsp >= 0x200000) {
                DeliveryResult.Faulted fault = assertInstanceOf(DeliveryResult.Faulted.class, results.getFirst());
                assertEquals(List.of(ExceptionVector.PF, 0x2, aligned - 8),
                        List.of(fault.vector(), fault.errorCode(), fault.cr2()));
                assertEquals(rsp, machine.register(X86Reg.RSP), "RSP unchanged after a failed delivery");
                assertEquals(aligned - 8, machine.register(X86Reg.CR2), "CR2 set as the CPU sets it");
                return;
            }
            assertInstanceOf(DeliveryResult.Delivered.class, results.getFirst());
            List<Long> expected = new ArrayList<>(List.of((long) before.ss(), rsp, before.rflags(), (long) before.cs(),
                    SITES.at(site) + (site.equals("de") ? 2 : site.equals("gp") ? 10 : 0)));
            if (error) {
                expected.add(0L);
            }
            List<Long> pushed = new ArrayList<>();
            for (int i = 1; i <= expected.size(); i++) {
                pushed.add(machine.ram().read64(aligned - 8L * i));
            }
            assertEquals(expected, pushed);
            assertEquals(aligned - 8L * expected.size(), machine.register(X86Reg.RSP));
            assertEquals(CODE + HANDLER_OFFSET, machine.register(X86Reg.RIP));
        }
    }

    @Provide
    Arbitrary<String> sites() {
        return Arbitraries.of("de", "ud", "gp");
    }
}
