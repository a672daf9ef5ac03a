package dev.kemu.testing;

import dev.kemu.debug.leaks.LeakKind;
import dev.kemu.debug.leaks.LeakReport;
import dev.kemu.debug.leaks.TrackedObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code run.leaks()} and {@code run.assertNoLeaks()} on guest code that allocates through kemu's hypercalls. */
@ExtendWith(KemuExtension.class)
class GuestLeaksTest {
    private static GuestRun run(Guest guest, String code) {
        GuestRun run = guest.run(code);
        assertTrue(run.completed(), run.describe());
        return run;
    }

    private static List<Long> addresses(LeakReport report) {
        return report.leaks().stream().map(o -> o.address().value()).toList();
    }

    @Test
    void bootedKernelAndAnEmptySnippet_leakNothing(Guest guest) {
        run(guest, "nop").assertNoLeaks();
    }

    @Test
    void kmallocWhosePointerIsDropped_isReported_andOneKeptInData_isNot(Guest guest) {
        GuestRun run = run(guest, """
                    mov edi, 24
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov [rip + kept], rax
                    mov edi, 40
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov byte ptr [rbx], 0x4b
                    xor eax, eax
                    xor ebx, ebx
                    jmp done
                    .balign 8
                kept: .quad 0
                done:
                """);
        LeakReport report = run.leaks();
        assertEquals(1, report.leaks().size(), report.text());
        TrackedObject leak = report.leaks().getFirst();
        assertEquals(LeakKind.KMALLOC, leak.kind());
        assertEquals("kmalloc-64", leak.owner());
        assertTrue(report.text().contains("hex dump (first 32 bytes):\n    4b "), report.text()); // the rest: kmalloc's garbage
        AssertionError failure = assertThrows(AssertionError.class, run::assertNoLeaks);
        assertTrue(failure.getMessage().contains("unreferenced object " + leak.address() + " (size 64):"),
                failure.getMessage());
    }

    @Test
    void droppedVmallocArea_isReported(Guest guest) {
        GuestRun run = run(guest, """
                    mov edi, 8192
                    HYPERCALL HC_VMALLOC
                    mov qword ptr [rax], 7
                    xor eax, eax
                """);
        LeakReport report = run.leaks();
        assertEquals(List.of(LeakKind.VMALLOC), report.leaks().stream().map(TrackedObject::kind).toList(), report.text());
        assertEquals(8192, report.leaks().getFirst().size());
    }

    @Test
    void pointerOnlyInARegisterOrOnTheStack_isNoLeak(Guest guest) {
        GuestRun run = run(guest, """
                    mov edi, 100
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    mov r12, rax
                    mov edi, 100
                    xor esi, esi
                    HYPERCALL HC_KMALLOC
                    push rax
                    xor eax, eax
                """);
        run.assertNoLeaks();
    }

    @Test
    void unreachableCycle_isReportedWhole(Guest guest) {
        GuestRun run = run(guest, """
                    mov edi, 32
                    mov esi, 1
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov edi, 32
                    mov esi, 1
                    HYPERCALL HC_KMALLOC
                    mov [rbx], rax
                    mov [rax + 8], rbx
                    mov r12, rbx
                    xor eax, eax
                    xor ebx, ebx
                """);
        assertEquals(0, run.leaks().leaks().size(), "r12 still holds the cycle: " + run.leaks().text());
        GuestRun dropped = run(guest, """
                    mov edi, 32
                    mov esi, 1
                    HYPERCALL HC_KMALLOC
                    mov rbx, rax
                    mov edi, 32
                    mov esi, 1
                    HYPERCALL HC_KMALLOC
                    mov [rbx], rax
                    mov [rax + 8], rbx
                    xor eax, eax
                    xor ebx, ebx
                """);
        assertEquals(2, addresses(dropped.leaks()).size(), dropped.leaks().text());
    }
}
