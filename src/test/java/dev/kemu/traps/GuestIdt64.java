package dev.kemu.traps;

import dev.kemu.machine.Machine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembly shared by the long-mode handler tests: a routine that fills a 64-bit IDT gate, a
 * handler macro that logs what the CPU pushed and returns with {@code iretq}, and the IDT.
 *
 * <p>{@code HANDLER vector, error, skip} logs five quads at {@code [r15]} (then advances r15):
 * the vector, the pushed error code (-1 when the vector has none), the pushed RIP, RFLAGS inside
 * the handler and CR2; then it adds {@code skip} to the pushed RIP (to step over a faulting
 * instruction) and returns.
 */
final class GuestIdt64 {
    private GuestIdt64() {}

    /** {@code SET_GATE vector, handler, type_attr, ist}: e.g. {@code SET_GATE 14, handler_14, 0x8E00, 0}. */
    static final String MACROS = """
            .macro SET_GATE vector, handler, attr, ist
                lea rdi, [rip + idt + \\vector * 16]
                lea rax, [rip + \\handler]
                mov word ptr [rdi], ax
                mov word ptr [rdi + 2], 0x08
                mov word ptr [rdi + 4], \\attr | \\ist
                shr rax, 16
                mov word ptr [rdi + 6], ax
                shr rax, 16
                mov dword ptr [rdi + 8], eax
            .endm
            .macro HANDLER vector, error, skip
            handler_\\vector:
                push rax
                pushfq
                pop rax
                mov [r15 + 24], rax
                mov qword ptr [r15], \\vector
                .if \\error
                mov rax, [rsp + 8]
                mov [r15 + 8], rax
                mov rax, [rsp + 16]
                mov [r15 + 16], rax
                add qword ptr [rsp + 16], \\skip
                .else
                mov qword ptr [r15 + 8], -1
                mov rax, [rsp + 8]
                mov [r15 + 16], rax
                add qword ptr [rsp + 8], \\skip
                .endif
                mov rax, cr2
                mov [r15 + 32], rax
                add r15, 40
                pop rax
                .if \\error
                add rsp, 8
                .endif
                iretq
            .endm
            """;

    /** The IDT (256 empty gates), its IDTR and the handlers' log (r15 starts at {@code log}). */
    static final String DATA = dev.kemu.testutil.GuestTraps.IDT_DATA + """
            log: .skip 40 * 16
            """;

    /** One entry of the handlers' log. */
    record Entry(long vector, long errorCode, long rip, long rflags, long cr2) {
        static final long RFLAGS_IF = 1L << 9;

        boolean interruptsEnabled() {
            return (rflags & RFLAGS_IF) != 0;
        }
    }

    /** The first {@code entries} entries of the log at {@code log}. */
    static List<Entry> log(Machine machine, long log, int entries) {
        ByteBuffer bytes = ByteBuffer.wrap(machine.readVirtual(log, 40 * entries)).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> list = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
            list.add(new Entry(bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong(), bytes.getLong()));
        }
        return list;
    }
}
