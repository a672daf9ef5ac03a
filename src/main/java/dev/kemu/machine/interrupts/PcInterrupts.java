package dev.kemu.machine.interrupts;

import dev.kemu.machine.DeviceBus;
import dev.kemu.machine.Machine;

import dev.kemu.machine.devices.DualPic;
import dev.kemu.machine.devices.IoApic;
import dev.kemu.machine.devices.LocalApic;
import dev.kemu.machine.devices.Pit8254;

import java.util.List;

/**
 * A PC's interrupt hardware for one CPU, wired as QEMU's {@code pc} machine: the 8259A pair, the
 * 8254 PIT with port 0x61, the local APIC (APIC ID 0) and the I/O APIC, on one {@link VirtualClock}.
 * ISA IRQ n drives PIC input n and I/O APIC GSI n, except IRQ0 (the PIT), which arrives on GSI 2.
 *
 * <p>The run loop asks three things between quanta: is virtual time needed ({@link #engaged()}: a timer
 * was programmed or a line raised, until then the guest runs uncounted at full speed), when is the next
 * device deadline, and which vector is deliverable now ({@link #acknowledge()}, the INTA cycle: the
 * local APIC's highest IRR above its PPR first, then the PIC's INTR when the APIC passes it through).
 * A device that changes what is deliverable calls {@link #changed()}, which ends the current quantum
 * after the instruction so the run loop checks at once.
 */
public final class PcInterrupts {
    /** ISA IRQ0 on GSI 2: QEMU's MADT interrupt source override. */
    public static final int PIT_GSI = 2;
    public static final int COM1_IRQ = 4;

    private final VirtualClock clock;
    private final DualPic pic;
    private final Pit8254 pit;
    private final LocalApic apic;
    private final IoApic ioApic;
    private final List<TimedDevice> timers;
    private final TimeStampCounter tsc;
    private Runnable endQuantum = () -> { };
    private boolean engaged;
    private long delivered;

    public PcInterrupts() {
        this(0, ClockMode.INSTRUCTIONS);
    }

    /**
     * The hardware as the CPU with {@code apicId} sees it. An application processor's set ({@link
     * #attachApplicationProcessor}) uses only its local APIC; its PIC and PIT are never reached, because
     * port I/O from every CPU goes to the bootstrap CPU's devices. Time is counted as {@code clockMode} says.
     */
    public PcInterrupts(int apicId, ClockMode clockMode) {
        this.clock = new VirtualClock(clockMode);
        this.tsc = new TimeStampCounter(clock, this::engage);
        this.pic = new DualPic(this::changed);
        this.apic = new LocalApic(apicId, clock, this::changed, this::engage);
        this.ioApic = new IoApic(apic);
        this.pit = new Pit8254(clock, isaIrq(0), this::engage);
        this.timers = List.of(pit, apic);
    }

    /** Claims the ports (0x20, 0xa0, 0x40-0x43, 0x61) and, when {@code bus} has memory, the APIC pages. */
    public void attach(DeviceBus bus, boolean memoryMapped) {
        bus.claimPorts(DualPic.MASTER, 2, pic);
        bus.claimPorts(DualPic.SLAVE, 2, pic);
        bus.claimPorts(Pit8254.BASE, 4, pit);
        bus.claimPorts(Pit8254.PORT_B, 1, pit);
        if (memoryMapped) {
            bus.claimMemory(LocalApic.BASE, LocalApic.SIZE, apic);
            bus.claimMemory(IoApic.BASE, IoApic.SIZE, ioApic);
        }
    }

    /**
     * An application processor's view, in its own engine: its local APIC at 0xfee00000 and the bootstrap CPU's
     * I/O APIC (one chip for the whole machine) at 0xfec00000; no ports.
     */
    public void attachApplicationProcessor(Machine cpu, PcInterrupts bootstrap) {
        cpu.claimMemoryOnThisCpu(LocalApic.BASE, LocalApic.SIZE, apic);
        cpu.claimMemoryOnThisCpu(IoApic.BASE, IoApic.SIZE, bootstrap.ioApic);
    }

    /** The line of ISA IRQ {@code irq}: PIC input and I/O APIC pin together. */
    public IrqLine isaIrq(int irq) {
        IrqLine picLine = pic.line(irq);
        IrqLine ioApicPin = ioApic.pin(irq == 0 ? PIT_GSI : irq);
        return high -> {
            picLine.set(high);
            ioApicPin.set(high);
            if (high && pending()) {
                engage(); // an unmasked request: the run loop must look at interrupts from now on
            }
        };
    }

    /** The run loop's hook to end the quantum under way (set once by the machine). */
    public void onChange(Runnable endQuantum) {
        this.endQuantum = endQuantum;
    }

    /**
     * Something deliverable may have appeared: if so, the run loop checks after the current instruction.
     * (A change that leaves nothing pending, such as an EOI with nothing else waiting, costs no stop.)
     */
    public void changed() {
        if (pending()) {
            engaged = true;
            endQuantum.run();
        }
    }

    /** A timer was (re)programmed: virtual time matters from now on, and the next deadline may be sooner. */
    private void engage() {
        engaged = true;
        endQuantum.run();
    }

    /** Whether virtual time matters yet (a timer was programmed, or an interrupt line raised). */
    public boolean engaged() {
        return engaged;
    }

    public VirtualClock clock() {
        return clock;
    }

    /** What RDTSC reads: the virtual clock at 1 GHz. */
    public TimeStampCounter timeStampCounter() {
        return tsc;
    }

    /** The earliest device deadline (virtual ns), or {@link TimedDevice#NEVER}. */
    public long nextDeadline() {
        long next = TimedDevice.NEVER;
        for (TimedDevice timer : timers) {
            next = Math.min(next, timer.deadline());
        }
        return next;
    }

    /** Fires every device event due by the clock's current time. */
    public void advance() {
        long now = clock.now();
        for (TimedDevice timer : timers) {
            timer.advanceTo(now);
        }
    }

    /** Whether an interrupt is ready for the CPU (the INTR line or a deliverable APIC vector). */
    public boolean pending() {
        return apic.deliverable() >= 0 || (apic.acceptsPicInterrupts() && pic.interruptRequested());
    }

    /** The INTA cycle: the vector to deliver now, or -1 if nothing is pending. */
    public int acknowledge() {
        int vector = apic.deliverable();
        if (vector >= 0) {
            apic.acknowledge(vector);
        } else if (apic.acceptsPicInterrupts() && pic.interruptRequested()) {
            vector = pic.acknowledge();
        } else {
            return -1;
        }
        delivered++;
        return vector;
    }

    /** External interrupts taken by the CPU so far. */
    public long delivered() {
        return delivered;
    }

    public DualPic pic() {
        return pic;
    }

    public Pit8254 pit() {
        return pit;
    }

    public LocalApic localApic() {
        return apic;
    }

    public IoApic ioApic() {
        return ioApic;
    }

    /** Every device back to its power-on state (the harness does this between tests; time keeps running). */
    public void reset() {
        engaged = false;
        pic.reset();
        pit.reset();
        apic.reset();
        ioApic.reset();
    }

}
