package dev.kemu.machine;

import dev.kemu.machine.interrupts.PcInterrupts;
import dev.kemu.unicorn.HookType;
import dev.kemu.unicorn.UcError;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UnicornException;
import dev.kemu.unicorn.X86Reg;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;

/**
 * The run loop: one {@link Machine#run} from start to {@link RunResult}. It applies the
 * instruction budget and the wall-clock limit, runs in quanta when interrupt hardware is engaged
 * (until the next device deadline, then delivers what is pending at that instruction boundary, and lets
 * a {@code hlt} with interrupts enabled sleep until the next deadline; see {@link InterruptPoint}), and
 * classifies why the guest stopped. A #UD the guest handles needs no restart: Unicorn 2.1 continues
 * in the same {@code uc_emu_start} when the invalid-instruction hook returns true. Hooks and devices end a run
 * through {@link #requestStop}; the first reason wins. An access to memory with nothing behind
 * it is recorded by an unmapped-memory hook, so that the engine's bare {@code UC_ERR_READ_UNMAPPED}
 * becomes an {@link UnmappedAccess} naming the address, the access and what a PC has there.
 */
final class RunLoop {
    private static final Logger log = LoggerFactory.getLogger(Machine.class);

    private final Machine machine;
    private final Unicorn engine;
    private final InstructionCounter counter;

    // Per-run state, written by hooks.
    private StopReason stopReason;
    private int exitCode;
    private int vector = -1;
    private String stopDetail = "";
    /** Set when a device asked for an interrupt check: the quantum under way ends after its instruction. */
    private boolean quantumEndRequested;
    /** uc_emu_start calls so far: a snapshot restore knows from it whether guest code ran (and so translated) since the last one. */
    private long emulations;
    private PcInterrupts interrupts;
    private final InterruptPoint interruptPoint;
    /** The first access of this run that found no memory; Unicorn then ends the run with UC_ERR_*_UNMAPPED. */
    private UnmappedAccess unmapped;
    private final PcPhysicalMap pcMap;
    /** Stops the engine at the wall-clock limit and, with host time, at device deadlines. */
    private final HostAlarm alarm;
    /** Fills the TLB while paging is off (fast stores to RAM); null without libkemu_hooks. */
    private final IdentityTlb identityTlb;

    RunLoop(Machine machine, Unicorn engine) {
        this.machine = machine;
        this.engine = engine;
        this.counter = new InstructionCounter(engine, this);
        this.interruptPoint = new InterruptPoint(this, machine, engine, counter);
        this.alarm = new HostAlarm(engine);
        counter.readCodeWith(machine);
        this.pcMap = new PcPhysicalMap(machine.ram().size());
        this.identityTlb = IdentityTlb.install(engine, machine.ram().size());
        // Only above guest RAM (mapped at 0, never unmapped), where unmapped accesses can happen: libunicorn 2.1.4
        // keeps every store to a page an unmapped hook covers on its slow path (notdirty_write), even to RAM.
        engine.hookMemEvent(HookType.MEM_UNMAPPED, machine.ram().size(), -1L, (uc, type, address, size, value) -> {
            recordUnmapped(type, address, size);
            return false; // not handled: Unicorn stops with the matching UC_ERR_*_UNMAPPED
        });
    }

    private void recordUnmapped(int type, long address, int size) {
        if (unmapped != null) {
            return;
        }
        Access.Kind kind = switch (type) {
            case HookType.MEM_TYPE_WRITE_UNMAPPED -> Access.Kind.WRITE;
            case HookType.MEM_TYPE_FETCH_UNMAPPED -> Access.Kind.FETCH;
            default -> Access.Kind.READ;
        };
        long rip = kind == Access.Kind.FETCH ? address : engine.regRead(X86Reg.RIP);
        unmapped = new UnmappedAccess(kind, PhysAddr.of(address), size, rip, pcMap.describe(address));
    }

    /** Before the engine is freed: its alarm can never ring it again. */
    void closeAlarm() {
        alarm.close();
    }

    /** After the engine closed: frees the counter's block cache (its other native blocks are the collector's). */
    void close() {
        counter.close();
    }

    long instructionCount() {
        return counter.count();
    }

    /** Ends the current run after the current instruction; callable from any hook or device. */
    void requestStop(StopReason reason, int code, String detail) {
        if (stopReason == null) {
            stopReason = reason;
            exitCode = code;
            stopDetail = detail;
        }
        engine.stop();
    }

    /**
     * Ends the run before the next instruction: the counter's quantum ends where it is. No uc_emu_stop
     * here: called from a memory hook on the first instruction of a run, it loses that instruction's store.
     */
    void requestStopBeforeNextInstruction(StopReason reason, String detail) {
        counter.endQuantumEarly();
        if (stopReason == null) {
            stopReason = reason;
            exitCode = 0;
            stopDetail = detail;
        }
        if (!counter.hooked()) {
            engine.stop(); // an uncounted run has no counter to stop at the next instruction
        }
    }

    /** An exception is being taken at {@code rip}: the counter takes back what its block did not run. */
    void exceptionAt(long rip) {
        counter.exceptionAt(rip);
    }

    long lastCountedInstruction() {
        return counter.lastAddress();
    }

    /** The run ends on {@code exception}, which no one handled. */
    void stopOn(CpuException exception) {
        vector = exception.vector();
        requestStop(StopReason.UNHANDLED_EXCEPTION, 0, String.format("%s at RIP 0x%x",
                ExceptionVector.describe(exception.vector()), exception.rip()));
    }

    /** The run ends because external interrupt {@code vector} had no usable gate. */
    void stopOnUndeliverable(int vector, String detail) {
        this.vector = vector;
        requestStop(StopReason.UNHANDLED_EXCEPTION, 0, detail);
    }

    /** The interrupt hardware of this machine, once attached; null on a bare machine. */
    void attach(PcInterrupts interrupts) {
        this.interrupts = interrupts;
        interrupts.clock().countingWith(counter::inQuantum);
        counter.retireTo(interrupts.clock()::retire);
        interrupts.onChange(this::endQuantum);
    }

    /** A device changed what may be deliverable: end the quantum after the current instruction. */
    private void endQuantum() {
        quantumEndRequested = true;
        counter.endQuantumEarly();
        if (!counter.hooked()) {
            engine.stop(); // not counting yet: Unicorn stops at the end of the translated block
        }
    }

    RunResult run(long startRip, long endRip, RunLimits limits) {
        counter.arm(limits.instructionBudget());
        stopReason = null;
        exitCode = 0;
        vector = -1;
        stopDetail = "";
        unmapped = null;
        // Unicorn re-translates code whenever uc_emu_start gets an end address (~3.4 us a run, against
        // ~0.1 us to stop on a hlt). If a hlt sits at the end address, run without one and stop there.
        boolean haltAtEnd = endRip != 0 && hltAt(endRip);
        long started = System.nanoTime();
        long wallDeadline = limits.timeout().isZero() ? Long.MAX_VALUE
                : started + Math.min(limits.timeout().toNanos(), Long.MAX_VALUE / 2); // no overflow for a limit of centuries
        UnicornException engineError = null;
        long rip = startRip;
        while (true) {
            long quantum = Long.MAX_VALUE;
            long alarmAt = wallDeadline;
            boolean engaged = interrupts != null && interrupts.engaged();
            boolean hostTime = engaged && interrupts.clock().hostTime();
            if (engaged) {
                interrupts.advance();
                quantum = interruptPoint.beforeQuantum(interrupts, rip);
                if (stopReason != null) {
                    break;
                }
                rip = interruptPoint.rip();
                if (hostTime) {
                    alarmAt = Math.min(alarmAt, interrupts.clock().hostNanoTime(interruptPoint.hostDeadline()));
                }
            }
            // With host time a timer stops the engine at the deadline: nothing needs counting but a budget.
            counter.beginQuantum(limits.instructionBudget() > 0 || engaged && !hostTime, quantum);
            quantumEndRequested = false;
            boolean rang;
            alarm.arm(alarmAt);
            try {
                long runEnd = haltAtEnd ? 0 : endRip;
                start(rip, runEnd);
                while (stopReason == null && counter.crossedLimit()) { // the deadline lies inside a block
                    long at = engine.regRead(X86Reg.RIP);
                    start(at, counter.partialEnd(at, runEnd));
                }
            } catch (UnicornException e) {
                if (e.error() == UcError.UNKNOWN) {
                    throw withPosition(e); // a hook failed (Unicorn.start wraps it): its exception is the cause
                }
                engineError = explained(e);
            } catch (RuntimeException e) {
                throw withPosition(e); // a hook's own exception, rethrown by Unicorn.start as it was
            } catch (Error e) {
                throw withPosition(e);
            } finally {
                rang = alarm.disarm(System.nanoTime());
            }
            counter.endQuantum();
            if (interrupts == null || stopReason != null || engineError != null || System.nanoTime() >= wallDeadline) {
                break;
            }
            rip = engine.regRead(X86Reg.RIP);
            if (endRip != 0 && (rip == endRip || haltAtEnd && rip == endRip + 1
                    && (!counter.hooked() || counter.lastAddress() == endRip))) { // uncounted: a hlt ends its block, so RIP is after it
                break;
            }
            // With host time nothing is counted, so a hlt is guessed from the byte before RIP, which may be the tail of
            // another instruction: a stop kemu asked for (the alarm, a device) resumes instead, and a hlt it met as
            // it ran wakes as on an interrupt (docs/interrupts.md, "Host time").
            if (counter.limitHit() || rang || (quantumEndRequested && (hostTime || !haltedJustNow(rip)))) {
                continue; // a deadline, or a device asked for a check: interrupts are looked at next
            }
            if (!haltedJustNow(rip) || !interruptPoint.sleep(interrupts, rip - 1, wallDeadline)) {
                break; // a hlt that ends the run, or Unicorn stopped for another reason: classified below
            }
        }
        Duration wall = Duration.ofNanos(System.nanoTime() - started);
        if (haltAtEnd && stopReason == null && engine.regRead(X86Reg.RIP) == endRip + 1) {
            engine.regWrite(X86Reg.RIP, endRip); // as if stopped before the hlt, like an end address
            counter.uncountOne();
        }
        CpuState cpu = machine.cpu();
        if (engineError != null) {
            recordEngineError(engineError);
        }
        if (stopReason == null && endRip != 0 && cpu.rip() == endRip) {
            stopReason = StopReason.REACHED_END;
            stopDetail = String.format("reached 0x%x", endRip);
        } else if (stopReason == null) {
            classifyQuietStop(cpu, limits, wall);
        }
        log.debug("run stopped: {} after {} instructions: {}", stopReason,
                counter.counting() ? counter.count() : "uncounted", stopDetail);
        return new RunResult(stopReason, cpu, counter.reported(), exitCode, vector, wall, stopDetail,
                Optional.<Throwable>ofNullable(engineError));
    }

    /** uc_emu_start calls so far ({@link Snapshot} asks whether guest code ran since a restore). */
    long emulations() {
        return emulations;
    }

    /** Whether the quantum ended on a hlt that just ran (the last counted instruction, when counting). */
    private boolean haltedJustNow(long rip) {
        long last = counter.lastAddress();
        if (counter.hooked()) {
            return last != InstructionCounter.NONE && last == rip - 1 && hltAt(last);
        }
        return hltAt(rip - 1);
    }

    private <T extends Throwable> T withPosition(T failure) {
        try {
            failure.addSuppressed(new GuestPosition(engine.regRead(X86Reg.RIP), counter.reported()));
        } catch (RuntimeException unreadable) {
            failure.addSuppressed(unreadable);
        }
        return failure;
    }

    /** Gives the TLB back to the identity hook if paging is off (see {@link IdentityTlb}). */
    void pagingMayBeOff() {
        if (identityTlb != null) {
            identityTlb.resumeIfPagingOff();
        }
    }

    /**
     * uc_emu_start, resumed once where the identity TLB met paging: that ends the engine's run before the
     * fetch it refused, and the CPU's page walk takes over. Nothing of that block was counted: enabling paging
     * (mov to CR0, or the host's register write between runs) flushes the TLB and ends the block, so the first
     * fill with paging on is always the next block's fetch, before its block or code hooks ran.
     */
    private void start(long begin, long end) {
        pagingMayBeOff();
        emulations++;
        long at = begin;
        while (true) { // a hook may hand the TLB back to the identity hook (the firmware hand-off), and paging go on again
            // The error comes back as a code: the resume below happens on every boot, and an exception per boot
            // (its stack trace and message) cost more than the resume itself. No Unicorn timeout: see HostAlarm.
            int err = engine.startOrError(at, end, 0, 0);
            if (err == 0) {
                return;
            }
            if (UcError.of(err) != UcError.EXCEPTION || identityTlb == null || !identityTlb.leavePagingOff()) {
                throw engine.startFailure(err, at, end, 0, 0);
            }
            at = engine.regRead(X86Reg.RIP);
            log.debug("paging on at RIP 0x{}: the CPU's page walk fills the TLB from here on", Long.toHexString(at));
        }
    }

    /** The engine's error, restated with the access when it is one of the unmapped-memory errors. */
    private UnicornException explained(UnicornException error) {
        return unmapped != null && error.error() == unmapped.error() ? new UnmappedAccessException(unmapped, error) : error;
    }

    /** An error uc_emu_start itself returned (not a hook's): the stop reason, or an addition to an earlier one. */
    private void recordEngineError(UnicornException error) {
        if (stopReason == null) {
            stopReason = error.error() == UcError.EXCEPTION ? StopReason.UNHANDLED_EXCEPTION : StopReason.EMULATION_ERROR;
            stopDetail = error.getMessage();
        } else {
            stopDetail += "; then the engine failed: " + error.getMessage();
        }
    }

    private void classifyQuietStop(CpuState cpu, RunLimits limits, Duration wall) {
        if (!limits.timeout().isZero() && wall.compareTo(limits.timeout()) >= 0) {
            stopReason = StopReason.TIMEOUT;
            stopDetail = "wall-clock limit of " + limits.timeout().toMillis() + " ms reached";
        } else if (hltAt(cpu.rip() - 1)) {
            stopReason = StopReason.HALTED;
            stopDetail = String.format("hlt at 0x%x", cpu.rip() - 1);
        } else {
            stopReason = StopReason.HOST_REQUEST;
            stopDetail = "emulation stopped";
        }
    }

    private boolean hltAt(long address) {
        long physical = machine.physical(address);
        // Only RAM can hold a hlt: a memory-mapped device's range is not read behind its back.
        return physical >= 0 && physical < machine.ram().size() && machine.ram().read8(physical) == 0xF4;
    }
}
