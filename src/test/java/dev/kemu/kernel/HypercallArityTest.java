package dev.kemu.kernel;

import dev.kemu.machine.Machine;
import dev.kemu.machine.RunLimits;
import dev.kemu.unicorn.X86Reg;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A service receives the argument registers its arity declares and 0 for the others, whether it
 * was registered before or after the port was attached (the native trampoline copies the arities).
 */
class HypercallArityTest {
    private static final long CODE = 0x1000;
    // mov edi, 40 ; mov esi, 2 ; mov edx, 5 ; mov eax, 7 ; out 0xE6, al ; hlt
    private static final byte[] CALL_7 = {(byte) 0xBF, 40, 0, 0, 0, (byte) 0xBE, 2, 0, 0, 0, (byte) 0xBA, 5, 0, 0, 0,
            (byte) 0xB8, 7, 0, 0, 0, (byte) 0xE6, (byte) 0xE6, (byte) 0xF4};
    /** Service 7's answer: its three first arguments as decimal digits, 0 where a register was not read. */
    private static final Hypercall DIGITS = (m, a) -> a[0] * 100 + a[1] * 10 + a[2];

    private final Machine machine = new Machine(1 << 20);

    @AfterEach
    void close() {
        machine.close();
    }

    private long call() {
        machine.ram().write(CODE, CALL_7);
        machine.run(CODE, RunLimits.UNCOUNTED);
        return machine.register(X86Reg.RAX);
    }

    @Test
    void aServiceOfArityOne_seesItsFirstArgumentOnly() {
        HypercallPort port = new HypercallPort();
        port.register(7, 1, DIGITS);
        machine.attachHypercalls(0xE6, port);
        assertEquals(4000, call());
    }

    @Test
    void aServiceRegisteredAfterTheAttach_seesTheArgumentsItDeclares() {
        HypercallPort port = new HypercallPort();
        machine.attachHypercalls(0xE6, port);
        port.register(7, 2, DIGITS);
        assertEquals(4020, call());
        port.register(7, 3, DIGITS);
        assertEquals(4025, call());
        port.register(7, 0, DIGITS);
        assertEquals(0, call());
    }

    @Test
    void aPortAttachedEarlier_nolongerChangesWhatIsRead() {
        HypercallPort earlier = new HypercallPort();
        HypercallPort current = new HypercallPort();
        machine.attachHypercalls(0xE6, earlier);
        machine.attachHypercalls(0xE6, current);
        current.register(7, 3, DIGITS);
        earlier.register(7, 0, DIGITS);
        assertEquals(4025, call());
    }
}
