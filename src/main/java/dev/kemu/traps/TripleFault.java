package dev.kemu.traps;

import dev.kemu.machine.CpuException;
import dev.kemu.machine.ExceptionVector;

import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * The exceptions that ended in a triple fault (a shutdown on hardware), in the order the CPU
 * raised them: the original one, each one raised while delivering the previous, and the #DF.
 */
public record TripleFault(List<Step> chain) {
    public TripleFault {
        chain = List.copyOf(chain);
    }

    /** One exception of the chain; the error code only where the CPU pushes one, CR2 only for #PF. */
    public record Step(int vector, long rip, OptionalInt errorCode, long cr2) {
        static Step of(CpuException exception) {
            return new Step(exception.vector(), exception.rip(), exception.errorCode(), exception.cr2());
        }

        /** {@code #PF (vector 14) at RIP 0x..., error code 0x2, CR2 0x...}. */
        @Override
        public String toString() {
            StringBuilder text = new StringBuilder(String.format("%s (vector %d) at RIP 0x%x",
                    ExceptionVector.mnemonic(vector), vector, rip));
            errorCode.ifPresent(code -> text.append(String.format(", error code 0x%x", code)));
            if (vector == ExceptionVector.PF) {
                text.append(String.format(", CR2 0x%x", cr2));
            }
            return text.toString();
        }
    }

    /** {@code #PF (...) -> #GP (...) -> #DF (...)}. */
    @Override
    public String toString() {
        return chain.stream().map(Step::toString).collect(Collectors.joining(" -> "));
    }
}
