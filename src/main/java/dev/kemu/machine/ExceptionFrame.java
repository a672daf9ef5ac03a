package dev.kemu.machine;

import java.util.Optional;

/**
 * The words the CPU pushes when it delivers an exception (4 bytes each in protected mode, 8 in
 * long mode), written downwards from a stack top. Each write is checked as the CPU's
 * supervisor write would be: through the current page tables (a #PF with the error code the
 * walk gives, CR2 the address) and, in long mode, for a canonical address (#SS(0)).
 */
final class ExceptionFrame {
    private final Machine machine;
    private final CpuState cpu;
    private final int width;
    private long pointer;

    ExceptionFrame(Machine machine, CpuState cpu, int width, long top) {
        this.machine = machine;
        this.cpu = cpu;
        this.width = width;
        this.pointer = top;
    }

    /** The stack pointer after the pushes so far. */
    long pointer() {
        return pointer;
    }

    /** Pushes {@code values} in order; the first failure ends it (what the CPU raises, or why kemu cannot). */
    Optional<DeliveryResult> push(long... values) {
        for (long value : values) {
            pointer = width == 8 ? pointer - 8 : (pointer - 4) & 0xffff_ffffL;
            Optional<DeliveryResult> failure = write(pointer, value);
            if (failure.isPresent()) {
                return failure;
            }
        }
        return Optional.empty();
    }

    private Optional<DeliveryResult> write(long address, long value) {
        long physical = address;
        for (int i = 0; i < width; i++, physical++) {
            // One walk per page: a word crosses into a second page only when the stack is misaligned.
            if (cpu.pagingEnabled() && (i == 0 || ((address + i) & 0xfff) == 0)) {
                PageWalk walk = machine.pageWalker().walk(cpu.cr3(), VirtAddr.of(address + i),
                        Access.of(Access.Kind.WRITE, Access.Mode.SUPERVISOR), PagingMode.of(cpu));
                switch (walk.verdict()) {
                    case AccessVerdict.Allowed allowed -> physical = allowed.physical().value();
                    case AccessVerdict.PageFault fault -> {
                        return Optional.of(new DeliveryResult.Faulted(ExceptionVector.PF, fault.errorCode(),
                                address + i, cannotPush(address + i, fault.reason())));
                    }
                    case AccessVerdict.NonCanonical nonCanonical -> {
                        return Optional.of(new DeliveryResult.Faulted(ExceptionVector.SS, 0, 0,
                                cannotPush(address + i, "the address is not canonical")));
                    }
                    case AccessVerdict.TableOutsideRam outside -> {
                        return Optional.of(new DeliveryResult.Unsupported(cannotPush(address + i, outside.reason())));
                    }
                }
            }
            if (!machine.ram().contains(physical, 1)) {
                return Optional.of(new DeliveryResult.Unsupported(cannotPush(address + i,
                        String.format("P0x%x is outside guest RAM", physical))));
            }
            machine.ram().write8(physical, (int) (value >>> (8 * i)) & 0xff);
        }
        return Optional.empty();
    }

    private static String cannotPush(long address, String why) {
        return String.format("the exception frame cannot be pushed: stack V0x%x is not writable (%s)", address, why);
    }
}
