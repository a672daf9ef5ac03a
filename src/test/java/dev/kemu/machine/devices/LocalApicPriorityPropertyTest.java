package dev.kemu.machine.devices;

import dev.kemu.machine.interrupts.VirtualClock;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The local APIC's priority logic against a reference model of the SDM's rules (10.8.3): random
 * sequences of arriving vectors, TPR writes, INTA cycles and EOIs; after each step the deliverable
 * vector, PPR and the IRR/ISR registers read through MMIO equal the model's.
 */
class LocalApicPriorityPropertyTest {
    /** One step: 0 = a vector arrives, 1 = TPR write, 2 = INTA if something is deliverable, 3 = EOI. */
    record Step(int kind, int value) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> step = Arbitraries.integers().between(0, 3).flatMap(kind -> Arbitraries.integers()
                .between(kind == 0 ? 16 : 0, 255).map(value -> new Step(kind, value)));
        return step.list().ofMaxSize(60);
    }

    @Property(tries = 300)
    void deliverableAndPpr_followTheSdmsRules(@ForAll("steps") List<Step> steps) {
        LocalApic apic = new LocalApic(0, new VirtualClock(), () -> { }, () -> { });
        TreeSet<Integer> irr = new TreeSet<>(), isr = new TreeSet<>();
        int tpr = 0;
        for (Step step : steps) {
            switch (step.kind()) {
                case 0 -> {
                    apic.accept(step.value());
                    irr.add(step.value());
                }
                case 1 -> {
                    apic.write(null, LocalApic.TPR, 4, step.value());
                    tpr = step.value();
                }
                case 2 -> {
                    int expected = deliverable(irr, isr, tpr);
                    assertEquals(expected, apic.deliverable());
                    if (expected >= 0) {
                        apic.acknowledge(expected);
                        irr.remove(expected);
                        isr.add(expected);
                    }
                }
                default -> {
                    apic.write(null, LocalApic.EOI, 4, 0);
                    if (!isr.isEmpty()) {
                        isr.remove(isr.last());
                    }
                }
            }
            assertEquals(deliverable(irr, isr, tpr), apic.deliverable(), "after " + step);
            assertEquals(ppr(isr, tpr), apic.read(null, LocalApic.PPR, 4), "PPR after " + step);
            for (int word = 0; word < 8; word++) {
                assertEquals(bits(irr, word), apic.read(null, LocalApic.IRR + 16L * word, 4), "IRR word " + word);
                assertEquals(bits(isr, word), apic.read(null, LocalApic.ISR + 16L * word, 4), "ISR word " + word);
            }
        }
    }

    private static int ppr(TreeSet<Integer> isr, int tpr) {
        int isrv = isr.isEmpty() ? 0 : isr.last();
        return (tpr >> 4) >= (isrv >> 4) ? tpr : isrv & 0xf0;
    }

    private static int deliverable(TreeSet<Integer> irr, TreeSet<Integer> isr, int tpr) {
        if (irr.isEmpty()) {
            return -1;
        }
        int highest = irr.last();
        return (highest >> 4) > (ppr(isr, tpr) >> 4) ? highest : -1;
    }

    private static long bits(TreeSet<Integer> set, int word) {
        long value = 0;
        for (int vector : set) {
            if (vector >> 5 == word) {
                value |= 1L << (vector & 31);
            }
        }
        return value;
    }
}
