package dev.kemu.machine.smp;

import dev.kemu.machine.HypercallHandler;
import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import dev.kemu.machine.StopReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Port devices and hypercalls serve every CPU, each call with the calling CPU's machine and registers. */
class ApDevicesTest {
    private static final int HYPERCALL_PORT = 0x5e0, LOG_PORT = 0x5e8;

    @Test
    void eachCpusOut_reachesTheSharedDevice_andItsHypercallsReadThatCpusRegisters() {
        try (SmpGuest guest = new SmpGuest(3)) {
            List<String> calls = new ArrayList<>();
            HypercallHandler handler = (machine, number, args) -> {
                calls.add("cpu" + cpuOf(guest, machine) + " hypercall " + number + " rdi=" + args[0]);
                return args[0] * 10;
            };
            guest.bsp.attachHypercalls(HYPERCALL_PORT, handler);
            guest.cpus.attachHypercalls(HYPERCALL_PORT, handler);
            guest.bsp.attach(LOG_PORT, new PortDevice() {
                @Override
                public void write(Machine machine, int port, int size, int value) {
                    calls.add("cpu" + cpuOf(guest, machine) + " wrote " + value);
                }
            });
            String body = """
                        mov eax, 1
                        cpuid
                        shr ebx, 24
                        mov edi, ebx
                        add edi, 1
                        mov al, 7
                        out 0x%x, al
                        mov dx, 0x%x
                        out dx, eax
                        cli
                        hlt
                    """.formatted(HYPERCALL_PORT, LOG_PORT);
            guest.loadAp(body.replace("out 0x5e0, al", "mov dx, 0x5e0\nout dx, al"));
            guest.loadBsp(SmpGuest.startAps(3) + body.replace("out 0x5e0, al", "mov dx, 0x5e0\nout dx, al"));
            SmpRunResult result = guest.run();
            assertEquals(StopReason.HALTED, result.last().reason(), result.detail());
            assertEquals(List.of("cpu0 hypercall 7 rdi=1", "cpu0 wrote 10", "cpu1 hypercall 7 rdi=2", "cpu1 wrote 20",
                    "cpu2 hypercall 7 rdi=3", "cpu2 wrote 30"), calls);
            assertSame(guest.bsp, guest.cpus.machine(0));
        }
    }

    private static int cpuOf(SmpGuest guest, Machine machine) {
        for (int i = 0; i < guest.cpus.count(); i++) {
            if (guest.cpus.machine(i) == machine) {
                return i;
            }
        }
        return -1;
    }
}
