package dev.kemu.debug;

import dev.kemu.machine.AccessVerdict;
import dev.kemu.machine.PageFaultCode;
import dev.kemu.machine.PageWalk;

/**
 * The reason for a #PF in words, taken from the page walker's verdict for the faulting access, so
 * the entry it names is the one the MMU stopped at. A verdict that disagrees with the CPU's error
 * code means the tables changed between the fault and the report; the reason says so.
 */
final class PageFaultReason {
    private PageFaultReason() {}

    /** {@code prefix} goes first (a guard page's name, or ""). */
    static String of(PageWalk walk, int errorCode, String prefix) {
        return switch (walk.verdict()) {
            case AccessVerdict.PageFault fault -> prefix + fault.reason() + entryOfNotPresent(walk, fault)
                    + disagreement(fault.errorCode(), errorCode);
            case AccessVerdict.Allowed allowed -> prefix + "the page is mapped and allows this access now: the tables "
                    + "changed after the fault, or the TLB held a stale entry (error code " + PageFaultCode.describe(errorCode)
                    + ")";
            case AccessVerdict.NonCanonical nonCanonical -> prefix + nonCanonical.reason();
            case AccessVerdict.TableOutsideRam outside -> prefix + outside.reason();
        };
    }

    /** The walker names a missing entry by table and index; the report adds where it lies. */
    private static String entryOfNotPresent(PageWalk walk, AccessVerdict.PageFault fault) {
        return fault.cause() == AccessVerdict.Cause.NOT_PRESENT && !walk.levels().isEmpty()
                ? " (entry at " + walk.levels().getLast().entryAddress() + ")" : "";
    }

    private static String disagreement(int walked, int pushed) {
        if (walked == pushed) {
            return "";
        }
        return "; note: the CPU pushed error code " + PageFaultCode.describe(pushed) + " but the tables now give "
                + PageFaultCode.describe(walked) + ": they changed since the fault";
    }
}
