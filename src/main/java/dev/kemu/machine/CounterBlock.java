package dev.kemu.machine;

import dev.kemu.unicorn.HookHandle;
import dev.kemu.unicorn.Unicorn;
import dev.kemu.unicorn.UpcallTargets;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The state of the current quantum, {@code struct kemu_counter} of native/kemu_hooks.c, in native
 * memory that the counting hook and Java share: with the native hook ({@code kemu_count_hook}) the
 * engine counts in C and Java reads the block between quanta without a native call; without the
 * library a Java code hook does the same work on the same block (an upcall per instruction).
 */
final class CounterBlock {
    private static final String HOOK_SYMBOL = "kemu_count_hook";
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("in_quantum"),
            JAVA_LONG.withName("limit"),
            JAVA_LONG.withName("last_address"),
            ADDRESS.withName("stop"),
            ADDRESS.withName("watch"),
            JAVA_LONG.withName("receiver"),
            JAVA_INT.withName("watching"),
            JAVA_INT.withName("limit_hit"),
            ADDRESS.withName("decode"),
            ADDRESS.withName("cache"),
            JAVA_INT.withName("cache_mask"),
            JAVA_INT.withName("generation"),
            JAVA_INT.withName("crossed"),
            JAVA_INT.withName("last_sets_if"),
            JAVA_LONG.withName("block_address"),
            JAVA_INT.withName("block_size"),
            JAVA_INT.withName("block_instructions")).withName("kemu_counter");
    /** {@code struct kemu_block_entry}: address, size, generation, instructions, last offset, sets IF. */
    private static final long BLOCK_ENTRY_BYTES = 24;
    /** Blocks the native cache holds (direct-mapped); a compute loop needs a few dozen. */
    private static final int BLOCK_CACHE_ENTRIES = 4096;
    private static final VarHandle IN_QUANTUM = field("in_quantum"), LIMIT = field("limit"),
            LAST_ADDRESS = field("last_address"), STOP = field("stop"), WATCH = field("watch"),
            RECEIVER = field("receiver"), WATCHING = field("watching"), LIMIT_HIT = field("limit_hit"),
            DECODE = field("decode"), CACHE = field("cache"), CACHE_MASK = field("cache_mask"),
            GENERATION = field("generation"), CROSSED = field("crossed"), LAST_SETS_IF = field("last_sets_if"),
            BLOCK_ADDRESS = field("block_address"), BLOCK_SIZE = field("block_size"),
            BLOCK_INSTRUCTIONS = field("block_instructions");
    private static final String BLOCK_HOOK_SYMBOL = "kemu_block_count_hook";

    /** The upcall stubs the C hooks call, made on first use (the holder idiom: the JVM makes each once, thread-safely). */
    private static final class WatchStub {
        static final MemorySegment STUB = Unicorn.staticUpcall(CounterBlock.class, "watched",
                FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_INT));
    }

    private static final class DecodeStub {
        static final MemorySegment STUB = Unicorn.staticUpcall(CounterBlock.class, "decoded",
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT));
    }

    /**
     * Freed by the garbage collector once the machine is gone: closing a shared arena stops every thread of the JVM
     * for a handshake, a cost each new machine (each test-harness or benchmark boot) would pay.
     */
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment block = arena.allocate(LAYOUT);
    private final Unicorn engine;
    private final WatchedInstruction watchTarget;
    private final BlockDecoder decodeTarget;
    private boolean blockCacheAllocated;

    /**
     * A block for {@code engine}; {@code watch} gets (address, size) of short instructions while watching,
     * {@code decode} the blocks the block counter meets for the first time.
     */
    CounterBlock(Unicorn engine, WatchedInstruction watch, BlockDecoder decode) {
        this.engine = engine;
        this.watchTarget = watch;
        this.decodeTarget = decode;
    }

    /** A translated block the block counter has not cached: {@link BlockInstructions#describe}'s word. */
    @FunctionalInterface
    interface BlockDecoder {
        long describe(long address, int size);
    }

    /** Called with a short instruction (1-3 bytes) about to run while an interrupt waits for IF. */
    @FunctionalInterface
    interface WatchedInstruction {
        void check(long address, int size);
    }

    private static VarHandle field(String name) {
        return LAYOUT.varHandle(groupElement(name));
    }

    long inQuantum() {
        return (long) IN_QUANTUM.get(block, 0L);
    }

    void setInQuantum(long value) {
        IN_QUANTUM.set(block, 0L, value);
    }

    long limit() {
        return (long) LIMIT.get(block, 0L);
    }

    void setLimit(long value) {
        LIMIT.set(block, 0L, value);
    }

    long lastAddress() {
        return (long) LAST_ADDRESS.get(block, 0L);
    }

    void setLastAddress(long value) {
        LAST_ADDRESS.set(block, 0L, value);
    }

    boolean watching() {
        return (int) WATCHING.get(block, 0L) != 0;
    }

    void setWatching(boolean value) {
        WATCHING.set(block, 0L, value ? 1 : 0);
    }

    boolean limitHit() {
        return (int) LIMIT_HIT.get(block, 0L) != 0;
    }

    void setLimitHit(boolean value) {
        LIMIT_HIT.set(block, 0L, value ? 1 : 0);
    }

    boolean crossed() {
        return (int) CROSSED.get(block, 0L) != 0;
    }

    void setCrossed(boolean value) {
        CROSSED.set(block, 0L, value ? 1 : 0);
    }

    void setLastSetsInterruptFlag(boolean value) {
        LAST_SETS_IF.set(block, 0L, value ? 1 : 0);
    }

    /** The last block the block counter counted: its address, size in bytes and instructions. */
    long blockAddress() {
        return (long) BLOCK_ADDRESS.get(block, 0L);
    }

    int blockSize() {
        return (int) BLOCK_SIZE.get(block, 0L);
    }

    int blockInstructions() {
        return (int) BLOCK_INSTRUCTIONS.get(block, 0L);
    }

    /** Forgets the last block counted (a new quantum, or a block already corrected). */
    void clearBlock() {
        BLOCK_SIZE.set(block, 0L, 0);
        BLOCK_INSTRUCTIONS.set(block, 0L, 0);
    }

    /** Every cached block becomes stale: the code behind an address may differ from here on. */
    void forgetBlocks() {
        GENERATION.set(block, 0L, (int) GENERATION.get(block, 0L) + 1);
    }

    /**
     * Adds the native block counter (kemu_block_count_hook), or returns null when libkemu_hooks is not built:
     * the caller then counts per instruction.
     */
    HookHandle hookNativeBlocks() {
        MemorySegment blockHook = blockHookFunction();
        if (blockHook == null) {
            return null;
        }
        if (!blockCacheAllocated) {
            CACHE.set(block, 0L, arena.allocate(BLOCK_ENTRY_BYTES * BLOCK_CACHE_ENTRIES, 8));
            CACHE_MASK.set(block, 0L, BLOCK_CACHE_ENTRIES - 1);
            GENERATION.set(block, 0L, 1); // zeroed entries are generation 0: never a hit
            blockCacheAllocated = true;
        }
        STOP.set(block, 0L, Unicorn.nativeFunction("uc_emu_stop"));
        WATCH.set(block, 0L, WatchStub.STUB);
        DECODE.set(block, 0L, DecodeStub.STUB);
        long id = UpcallTargets.register(decodeTarget);
        RECEIVER.set(block, 0L, id);
        return engine.hookBlockNative(blockHook, block, id);
    }

    /** Upcall from C; must not throw (0 counts the block as one instruction). */
    private static long decoded(long id, long address, int size) {
        try {
            if (UpcallTargets.target(id) instanceof BlockDecoder target) {
                return target.describe(address, size);
            }
        } catch (Throwable unreadable) {
            LoggerFactory.getLogger(CounterBlock.class).warn("block at 0x{} ({} bytes) could not be decoded: {}",
                    Long.toHexString(address), size, unreadable.toString());
        }
        return 0;
    }

    /** Adds the native counting hook, or returns null when libkemu_hooks is not built (the caller uses Java). */
    HookHandle hookNative() {
        MemorySegment function = function();
        if (function == null) {
            return null;
        }
        STOP.set(block, 0L, Unicorn.nativeFunction("uc_emu_stop"));
        WATCH.set(block, 0L, WatchStub.STUB);
        long id = UpcallTargets.register(watchTarget);
        RECEIVER.set(block, 0L, id);
        return engine.hookCodeNative(function, block, id);
    }

    /** Upcall from C; must not throw. */
    private static void watched(long id, long address, int size) {
        try {
            if (UpcallTargets.target(id) instanceof WatchedInstruction target) {
                target.check(address, size);
            }
        } catch (Throwable ignored) {
            // a guest page that cannot be read holds no sti: nothing to do
        }
    }

    private static MemorySegment function() {
        return KemuHooksLibrary.function(HOOK_SYMBOL, LAYOUT, "native instruction counter", "counting with a Java hook")
                .orElse(null);
    }

    private static MemorySegment blockHookFunction() {
        return KemuHooksLibrary.function(BLOCK_HOOK_SYMBOL, LAYOUT, "native block counter", "counting per instruction")
                .orElse(null);
    }

}
