package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.MmioDevice;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.interrupts.IpiRouter;
import dev.kemu.machine.interrupts.TimedDevice;
import dev.kemu.machine.interrupts.VirtualClock;

import java.util.function.IntUnaryOperator;

/**
 * One CPU's local APIC in xAPIC mode, memory-mapped at 0xfee00000, modelled on QEMU's
 * {@code hw/intc/apic.c}: ID, version, TPR, PPR, EOI, LDR, DFR, SVR, ISR, TMR, IRR, ESR, ICR, the LVT
 * (timer, thermal, performance, LINT0, LINT1, error) and the timer with its divide configuration. The
 * timer counts at 1 GHz of virtual time before the divider, as QEMU's does (one tick per nanosecond).
 *
 * <p>Not emulated: x2APIC (its MSRs; CPUID's bit is Unicorn's), the TSC-deadline timer mode, NMI/SMI
 * delivery, level-triggered interrupts (TMR stays 0; an EOI is never broadcast to the IOAPIC),
 * arbitration priority (APR reads 0), the cluster logical model (flat only) and the spurious vector on
 * a TPR race (delivery is atomic here, so there is no race).
 */
public final class LocalApic implements MmioDevice, TimedDevice {
    public static final PhysAddr BASE = PhysAddr.of(0xfee0_0000L);
    public static final long SIZE = 0x1000;
    static final int ID = 0x20, VERSION = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0,
            DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LOW = 0x300,
            ICR_HIGH = 0x310, LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PERF = 0x340, LVT_LINT0 = 0x350,
            LVT_LINT1 = 0x360, LVT_ERROR = 0x370, INITIAL_COUNT = 0x380, CURRENT_COUNT = 0x390, DIVIDE = 0x3e0;
    /** Version 0x14 (an integrated APIC), six LVT entries (max LVT index 5), as QEMU reports. */
    static final int VERSION_VALUE = 0x0005_0014;
    static final int MASKED = 1 << 16, SVR_ENABLE = 1 << 8, PERIODIC = 1 << 17;
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5, ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    private static final int DELIVERY_FIXED = 0, DELIVERY_LOWEST = 1, DELIVERY_INIT = 5, DELIVERY_STARTUP = 6,
            DELIVERY_EXTINT = 7;

    private final int apicId;
    private final VirtualClock clock;
    private final Runnable changed;
    private final Runnable engaged;
    private IpiRouter router;
    private IntUnaryOperator logicalIdOf;
    private final int[] irr = new int[8], isr = new int[8];
    private final int[] lvt = new int[6];
    private int tpr, ldr, dfr, svr, esr, pendingEsr, icrLow, icrHigh, initialCount, divide, shift;
    private long timerLoaded;
    private long timerFired;

    /**
     * The APIC of the CPU with {@code apicId}. {@code changed} runs whenever a deliverable interrupt may
     * have appeared; {@code engaged} when the timer is (re)programmed (virtual time must advance from then on,
     * and its next deadline may be sooner than the run loop planned for).
     */
    public LocalApic(int apicId, VirtualClock clock, Runnable changed, Runnable engaged) {
        this.apicId = apicId;
        this.clock = clock;
        this.changed = changed;
        this.engaged = engaged;
        this.router = new dev.kemu.machine.interrupts.SingleCpuIpiRouter(apicId, this::accept);
        this.logicalIdOf = id -> id == apicId ? ldr >>> 24 : 0;
        reset();
    }

    public int apicId() {
        return apicId;
    }

    /** Where the ICR sends IPIs: the machine's CPU set installs its router here (default: one CPU). */
    public void setRouter(IpiRouter router) {
        this.router = router;
    }

    /** This APIC's logical ID in the flat model: LDR bits 24-31, as the guest set them. */
    public int logicalId() {
        return ldr >>> 24;
    }

    /** How logical (flat) destinations match other CPUs: their LDR's bits 24-31 by APIC ID (default: only this one's). */
    public void setLogicalIds(IntUnaryOperator logicalIdOf) {
        this.logicalIdOf = logicalIdOf;
    }

    /** The power-on state (SDM 10.4.7.1): LVT masked, DFR all ones, SVR 0xff (software-disabled). */
    public void reset() {
        java.util.Arrays.fill(irr, 0);
        java.util.Arrays.fill(isr, 0);
        java.util.Arrays.fill(lvt, MASKED);
        tpr = ldr = esr = pendingEsr = icrLow = icrHigh = initialCount = divide = 0;
        shift = 1; // divide configuration 0 = divide by 2
        dfr = 0xffff_ffff;
        svr = 0xff;
        timerLoaded = timerFired = 0;
    }

    /** Software-enabled (SVR bit 8). */
    public boolean enabled() {
        return (svr & SVR_ENABLE) != 0;
    }

    /**
     * A fixed interrupt arriving from outside (an IPI from another CPU, the IOAPIC): {@code vector}
     * becomes pending in the IRR. A vector below 16 is illegal: it sets ESR's receive-illegal bit instead.
     */
    public void accept(int vector) {
        vector &= 0xff;
        if (vector < 16) {
            pendingEsr |= ESR_RECEIVE_ILLEGAL_VECTOR;
            return;
        }
        irr[vector >> 5] |= 1 << (vector & 31);
        changed.run();
    }

    /** Whether the PIC's INTR reaches the CPU: APIC software-disabled, or LINT0 unmasked in ExtINT mode (as QEMU). */
    public boolean acceptsPicInterrupts() {
        int lint0 = lvt[3];
        return !enabled() || ((lint0 & MASKED) == 0 && ((lint0 >> 8) & 7) == DELIVERY_EXTINT);
    }

    /** The highest IRR vector whose priority class is above the PPR's, or -1. */
    public int deliverable() {
        int vector = highest(irr);
        return vector >= 0 && (vector & 0xf0) > (ppr() & 0xf0) ? vector : -1;
    }

    /** INTA for {@code vector}: IRR to ISR. */
    public void acknowledge(int vector) {
        irr[vector >> 5] &= ~(1 << (vector & 31));
        isr[vector >> 5] |= 1 << (vector & 31);
    }

    /** SDM 10.8.3.1: the TPR if its class is at least the highest in-service class, else that class. */
    int ppr() {
        int inService = Math.max(highest(isr), 0);
        return (tpr & 0xf0) >= (inService & 0xf0) ? tpr & 0xff : inService & 0xf0;
    }

    private static int highest(int[] bits) {
        for (int word = 7; word >= 0; word--) {
            if (bits[word] != 0) {
                return word * 32 + 31 - Integer.numberOfLeadingZeros(bits[word]);
            }
        }
        return -1;
    }

    @Override
    public long read(Machine machine, long offset, int size) {
        int register = (int) offset & 0xff0;
        int value = register(register);
        return (value >>> (8 * (offset & 3))) & 0xffff_ffffL;
    }

    int register(int register) {
        return switch (register) {
            case ID -> apicId << 24;
            case VERSION -> VERSION_VALUE;
            case TPR -> tpr;
            case APR -> 0;
            case PPR -> ppr();
            case LDR -> ldr;
            case DFR -> dfr;
            case SVR -> svr;
            case ESR -> esr;
            case ICR_LOW -> icrLow & ~(1 << 12); // delivery status: always idle (sent at once)
            case ICR_HIGH -> icrHigh;
            case INITIAL_COUNT -> initialCount;
            case CURRENT_COUNT -> currentCount();
            case DIVIDE -> divide;
            default -> {
                if (register >= ISR && register < ISR + 0x80) {
                    yield isr[(register - ISR) >> 4];
                } else if (register >= IRR && register < IRR + 0x80) {
                    yield irr[(register - IRR) >> 4];
                } else if (register >= LVT_TIMER && register <= LVT_ERROR) {
                    yield lvt[(register - LVT_TIMER) >> 4];
                }
                yield 0; // TMR (edge-triggered only), EOI (write-only) and reserved offsets
            }
        };
    }

    @Override
    public void write(Machine machine, long offset, int size, long value) {
        if ((offset & 0xf) != 0) {
            return; // a register is the aligned dword at the start of its 16 bytes
        }
        int v = (int) value;
        int register = (int) offset & 0xff0;
        switch (register) {
            case TPR -> {
                tpr = v & 0xff;
                changed.run();
            }
            case EOI -> {
                int vector = highest(isr);
                if (vector >= 0) {
                    isr[vector >> 5] &= ~(1 << (vector & 31));
                }
                changed.run();
            }
            case LDR -> ldr = v & 0xff00_0000;
            case DFR -> dfr = v | 0x0fff_ffff;
            case SVR -> {
                svr = v & 0x13ff;
                if (!enabled()) {
                    for (int i = 0; i < lvt.length; i++) {
                        lvt[i] |= MASKED;
                    }
                }
                changed.run();
            }
            case ESR -> {
                esr = pendingEsr; // a write latches the errors since the last write
                pendingEsr = 0;
            }
            case ICR_HIGH -> icrHigh = v & 0xff00_0000;
            case ICR_LOW -> {
                icrLow = v & 0x000c_cfff;
                send();
            }
            case INITIAL_COUNT -> {
                initialCount = v;
                timerLoaded = clock.now();
                timerFired = 0;
                if (v != 0) {
                    engaged.run();
                }
            }
            case DIVIDE -> {
                divide = v & 0xb;
                int code = (divide & 3) | ((divide >> 1) & 4);
                shift = (code + 1) & 7;
                if (initialCount != 0) {
                    engaged.run();
                }
            }
            default -> {
                if (register >= LVT_TIMER && register <= LVT_ERROR) {
                    int index = (register - LVT_TIMER) >> 4;
                    lvt[index] = enabled() ? v : v | MASKED; // software-disabled: masks stay set
                    lvt[index] &= index == 0 ? 0x0003_10ff : 0x0001_f7ff;
                    if (index == 0 && initialCount != 0) {
                        engaged.run(); // one-shot or periodic: the next deadline may move
                    }
                    changed.run();
                }
            }
        }
    }

    /** The ICR was written: resolve the destination and hand each target to the router. */
    private void send() {
        int vector = icrLow & 0xff;
        int mode = (icrLow >> 8) & 7;
        int shorthand = (icrLow >> 18) & 3;
        if ((mode == DELIVERY_FIXED || mode == DELIVERY_LOWEST) && vector < 16) {
            pendingEsr |= ESR_SEND_ILLEGAL_VECTOR;
            return;
        }
        for (int target : router.apicIds()) {
            if (!addressed(target, shorthand)) {
                continue;
            }
            switch (mode) {
                case DELIVERY_FIXED -> router.fixed(apicId, target, vector);
                case DELIVERY_LOWEST -> {
                    // One processor of those addressed takes it (SDM 10.6.2.4); with equal priorities, the lowest ID.
                    router.fixed(apicId, target, vector);
                    return;
                }
                case DELIVERY_INIT -> {
                    if (((icrLow >> 14) & 3) != 2) { // not the INIT level de-assert
                        router.init(apicId, target);
                    }
                }
                case DELIVERY_STARTUP -> router.startup(apicId, target, vector);
                default -> { } // SMI, NMI, ExtINT: not emulated
            }
        }
    }

    /**
     * An IOAPIC message to {@code destination} (physical ID, 0xff = all, or flat logical), through the router;
     * in lowest-priority mode only one of the CPUs addressed takes it, the lowest APIC ID (equal priorities).
     */
    void sendFromIoApic(int vector, int destination, boolean logical, boolean lowestPriority) {
        for (int target : router.apicIds()) {
            boolean hit = logical ? (logicalIdOf.applyAsInt(target) & destination) != 0
                    : destination == 0xff || destination == target;
            if (hit) {
                router.fixed(apicId, target, vector);
                if (lowestPriority) {
                    return;
                }
            }
        }
    }

    private boolean addressed(int target, int shorthand) {
        return switch (shorthand) {
            case 1 -> target == apicId;
            case 2 -> true;
            case 3 -> target != apicId;
            default -> {
                int destination = icrHigh >>> 24;
                if ((icrLow & (1 << 11)) == 0) {
                    yield destination == 0xff || destination == target;
                }
                yield (logicalIdOf.applyAsInt(target) & destination) != 0; // flat model
            }
        };
    }

    private boolean periodic() {
        return (lvt[0] & PERIODIC) != 0;
    }

    private long period() {
        return (Integer.toUnsignedLong(initialCount)) << shift;
    }

    int currentCount() {
        if (initialCount == 0) {
            return 0;
        }
        long elapsed = (clock.now() - timerLoaded) >> shift;
        long initial = Integer.toUnsignedLong(initialCount);
        if (periodic()) {
            return (int) (initial - elapsed % initial);
        }
        return (int) Math.max(0, initial - elapsed);
    }

    @Override
    public long deadline() {
        if (initialCount == 0 || (!periodic() && timerFired > 0)) {
            return NEVER;
        }
        return timerLoaded + (timerFired + 1) * period();
    }

    @Override
    public void advanceTo(long now) {
        for (long due = deadline(); due <= now; due = deadline()) {
            timerFired++;
            if ((lvt[0] & MASKED) == 0 && enabled()) {
                accept(lvt[0] & 0xff);
            }
        }
    }
}
