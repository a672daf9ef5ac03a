package dev.kemu.kernel.hostile;

import dev.kemu.fuzz.CampaignSettings;
import dev.kemu.fuzz.FuzzCorpus;
import dev.kemu.fuzz.HypercallScript;
import dev.kemu.kernel.GuestAbi;
import dev.kemu.kernel.mm.MmLayout;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.kemu.kernel.GuestAbi.*;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random hypercall sequences with adversarial arguments against a booted kernel (issue 11):
 * ids and addresses taken from earlier results, the kernel's internal cache ids, kernel,
 * direct-map and vmalloc addresses, the mm root and the VMA list's own nodes, non-canonical,
 * unaligned and high-bit values. After each sequence no exception may have escaped (a
 * {@code KernelPanic} included) and every metadata checker must be clean.
 *
 * <p>{@code make test} runs a few seconds of it. A longer campaign:
 * {@code scripts/mvn.sh test -Dtest=HypercallFuzzTest -Dkemu.fuzz.tries=20000 [-Dkemu.fuzz.seed=N]};
 * jqwik prints the seed and the shrunk sequence of a failure.
 */
class HypercallFuzzTest {
    private static final int DEFAULT_TRIES = 30;
    private static final long TWO_MIB = 2L << 20;
    /** Plain values: sizes, orders, flags, and addresses no allocator owns or that are not canonical. */
    private static final long[] CONSTANTS = {
            0, 1, 2, 3, 7, 8, 10, 16, 20, 24, 100, 2048, 2049, 4095, 4096, 8192, 10_000, 1 << 20, TWO_MIB, 64L << 20,
            1L << 40, 0x1_0000_0003L, 0xffff_ffff_0000_0000L, -1, Long.MIN_VALUE, Long.MAX_VALUE,
            0x0000_8000_0000_0000L, 0xffff_7fff_ffff_f000L, 0x0000_7fff_ffff_f000L, 0x1001, 0x104000, 0x1206000,
            GuestAbi.KERNEL_VMA, GuestAbi.KERNEL_VMA + 0x100000, MmLayout.DIRECT_MAP_BASE, MmLayout.DIRECT_MAP_BASE + 0x100000,
            MmLayout.VMALLOC_START, MmLayout.VMALLOC_START + 0x5000, MmLayout.VMALLOC_END - 4096, 0xffff_ffff_c000_0000L,
            PageTableEntry.WRITABLE, PageTableEntry.WRITABLE | PageTableEntry.NO_EXECUTE, PageTableEntry.USER,
            MAP_HUGE | PageTableEntry.WRITABLE, PageTableEntry.PRESENT, 0x1ff, 1L << 9};

    /**
     * Where an argument comes from: mostly a value of the kind the service expects at that
     * position (an order, a size, flags, an earlier address or id), so that sequences get deep
     * into the allocators; otherwise anything adversarial.
     */
    enum Source { TYPED, CONSTANT, RESULT, RESULT_PLUS_ONE, RESULT_PAGE_ALIGNED, RESULT_HIGH_BITS, KERNEL_STATE }

    /** What a service expects at an argument position. */
    enum Kind { ORDER, SIZE, FLAGS, ADDRESS, CACHE_ID, SELECTOR, NAME, ZERO, USER_VA }

    private static final long[] ORDERS = {0, 0, 1, 2, 3, 10, 11};
    private static final long[] SIZES = {0, 1, 8, 20, 24, 32, 100, 2048, 2049, 4096, 4096, 8192, 10_000, 1 << 20, TWO_MIB};
    private static final long[] FLAGS = {0, ALLOC_ZERO, PageTableEntry.WRITABLE, PageTableEntry.WRITABLE
            | PageTableEntry.NO_EXECUTE, PageTableEntry.USER | PageTableEntry.WRITABLE, MAP_HUGE | PageTableEntry.WRITABLE};

    record Arg(Source source, int pick) {}

    record Call(int number, List<Arg> args) {
        @Override
        public String toString() {
            return GuestAbi.hypercallName(number) + args;
        }
    }

    private static HypercallDriver driver;
    /** Calls and sequences run by this JVM, printed at the end so that a campaign can report its exact counts. */
    private static long callsMade;
    private static long sequencesRun;

    @Provide
    Arbitrary<List<Call>> sequences() {
        Arbitrary<Source> source = Arbitraries.frequency(Tuple.of(12, Source.TYPED), Tuple.of(2, Source.CONSTANT),
                Tuple.of(1, Source.RESULT), Tuple.of(1, Source.RESULT_PLUS_ONE), Tuple.of(1, Source.RESULT_PAGE_ALIGNED),
                Tuple.of(1, Source.RESULT_HIGH_BITS), Tuple.of(2, Source.KERNEL_STATE));
        Arbitrary<Arg> arg = Combinators.combine(source, Arbitraries.integers().between(0, 1000)).as(Arg::new);
        Arbitrary<Integer> number = Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.integers().between(HC_FRAME_ALLOC, HC_CACHE_CTOR)),
                Tuple.of(1, Arbitraries.of(HC_PROBE, HC_MM_INIT, 27, 63, 64, -1)));
        // Uniform lengths: jqwik's default favours very short lists, which never get deep into the allocators.
        return Combinators.combine(number, arg.list().ofSize(4)).as(Call::new).list().ofMinSize(1).ofMaxSize(60)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    // FULL, not jqwik's default BOUNDED: bounded shrinking runs in a pool thread that jqwik abandons after its time
    // limit, and that thread would go on using the machine while @AfterContainer closes it (a JVM crash, seen).
    @Property(tries = DEFAULT_TRIES, shrinking = ShrinkingMode.FULL)
    @AddLifecycleHook(CampaignSettings.class)
    void randomHypercalls_neverThrowOrPanic_andLeaveEveryCheckerClean(@ForAll("sequences") List<Call> calls) {
        HypercallDriver d = driver();
        d.reset();
        List<Long> results = new ArrayList<>();
        results.add(nameBuffer(d));
        sequencesRun++;
        for (Call call : calls) {
            callsMade++;
            long[] args = new long[call.args().size()];
            for (int i = 0; i < args.length; i++) {
                args[i] = value(call.number(), i, call.args().get(i), results, d.memory().root());
            }
            results.add(assertDoesNotThrow(() -> d.call(call.number(), args), () -> failed(d, "a call threw")));
        }
        assertEquals(List.of(), assertDoesNotThrow(() -> d.memory().check(), () -> failed(d, "check() threw")),
                () -> failed(d, "a checker found a problem"));
        assertDoesNotThrow(() -> d.memory().slabs().info(), () -> failed(d, "slabs().info() threw"));
        assertDoesNotThrow(() -> d.memory().areas().vmas(), () -> failed(d, "areas().vmas() threw"));
    }

    /** The failure message, after writing the sequence into the corpus when a campaign asked for it. */
    private static String failed(HypercallDriver d, String what) {
        FuzzCorpus.recordFailure("hypercalls", "sequence", ".txt", HypercallScript.fromTranscript(
                "found by HypercallFuzzTest: " + what + "; the results are those of the failing run", d.transcript()));
        return what + " after:\n" + d.transcript();
    }

    private static Kind kind(int number, int position) {
        Kind[] kinds = switch (number) {
            case HC_FRAME_ALLOC -> new Kind[]{Kind.ORDER, Kind.FLAGS};
            case HC_FRAME_FREE -> new Kind[]{Kind.ADDRESS, Kind.ORDER};
            case HC_VMMAP -> new Kind[]{Kind.ADDRESS, Kind.ADDRESS, Kind.FLAGS};
            case HC_VMUNMAP -> new Kind[]{Kind.ADDRESS, Kind.SIZE};
            case HC_PROTECT -> new Kind[]{Kind.ADDRESS, Kind.FLAGS};
            case HC_VMA_RESERVE, HC_KMALLOC -> new Kind[]{Kind.SIZE, Kind.FLAGS};
            case HC_VMALLOC -> new Kind[]{Kind.SIZE};
            case HC_CACHE_CREATE -> new Kind[]{Kind.NAME, Kind.SIZE, Kind.SIZE, Kind.ZERO};
            case HC_CACHE_ALLOC -> new Kind[]{Kind.CACHE_ID, Kind.FLAGS};
            case HC_CACHE_FREE -> new Kind[]{Kind.CACHE_ID, Kind.ADDRESS};
            case HC_CACHE_DESTROY -> new Kind[]{Kind.CACHE_ID};
            case HC_MM_STAT -> new Kind[]{Kind.SELECTOR};
            case HC_SPACE_CREATE -> new Kind[]{};
            case HC_SPACE_MAP, HC_SPACE_PROTECT -> new Kind[]{Kind.ADDRESS, Kind.USER_VA, Kind.SIZE, Kind.FLAGS};
            case HC_SPACE_UNMAP -> new Kind[]{Kind.ADDRESS, Kind.USER_VA, Kind.SIZE};
            case HC_CACHE_CTOR_NEXT, HC_CACHE_CTOR -> new Kind[]{Kind.CACHE_ID};
            default -> new Kind[]{Kind.ADDRESS}; // HC_TRANSLATE, HC_VFREE, HC_KFREE, HC_VMA_RELEASE, others
        };
        return position < kinds.length ? kinds[position] : Kind.ZERO;
    }

    /** A value of the expected kind; addresses and ids come from earlier successful results, mostly recent ones. */
    private static long typed(Kind kind, int pick, List<Long> results, MmRoot root) {
        List<Long> good = results.stream().filter(r -> !HostileCorpusTest.isError(r)).toList();
        long earlier = good.get(good.size() - 1 - pick % Math.min(good.size(), 4));
        return switch (kind) {
            case ORDER -> ORDERS[pick % ORDERS.length];
            case SIZE -> SIZES[pick % SIZES.length];
            case FLAGS -> FLAGS[pick % FLAGS.length];
            case ADDRESS -> switch (pick % 6) {
                case 0, 1, 2 -> earlier;
                case 3 -> good.get(pick % good.size());
                case 4 -> (pick & 1) == 0 ? earlier & -TWO_MIB : root.vmaListHead().value();
                default -> (pick / 6) % 512 * TWO_MIB; // the identity map, 2 MiB at a time
            };
            case CACHE_ID -> pick % 3 == 0 ? root.kmallocFirstCache() + (pick / 3) % 9
                    : pick % 3 == 1 ? root.vmAreaCache() : earlier;
            case SELECTOR -> pick % 4;
            case NAME -> results.getFirst();
            case ZERO -> 0;
            case USER_VA -> switch (pick % 5) {
                case 0, 1 -> 0x40_0000L + (pick / 5) % 16 * 4096L; // a window the sequences share
                case 2 -> 0;
                case 3 -> 0x7fff_ffff_f000L;
                default -> 0x40_0000L + (pick / 5) % 16 * 4096L + 8; // misaligned
            };
        };
    }

    private static long value(int number, int position, Arg arg, List<Long> results, MmRoot root) {
        long earlier = results.get(arg.pick() % results.size());
        return switch (arg.source()) {
            case TYPED -> typed(kind(number, position), arg.pick(), results, root);
            case CONSTANT -> CONSTANTS[arg.pick() % CONSTANTS.length];
            case RESULT -> earlier;
            case RESULT_PLUS_ONE -> earlier + 1;
            case RESULT_PAGE_ALIGNED -> (arg.pick() % 2 == 0 ? earlier & -4096 : earlier & -TWO_MIB);
            case RESULT_HIGH_BITS -> earlier ^ (1L << (32 + arg.pick() % 31));
            case KERNEL_STATE -> kernelState(arg.pick(), root);
        };
    }

    /** Values that name the kernel's own structures: the guest can learn all of them. */
    private static long kernelState(int pick, MmRoot root) {
        return switch (pick % 9) {
            case 0 -> root.vmAreaCache();
            case 1 -> root.kmallocFirstCache() + (pick / 9) % 9;
            case 2 -> root.vmaListHead().value();
            case 3 -> root.toVirtual(root.phys()).value();
            case 4 -> root.toVirtual(root.cacheTable()).value();
            case 5 -> root.toVirtual(root.frameTable()).value();
            case 6 -> root.pml4().value();
            case 7 -> root.toVirtual(root.pml4()).value();
            default -> root.toVirtual(root.phys().plus(72)).value(); // the free-area list head's own address
        };
    }

    /** A kmalloc'd C string, so that HC_CACHE_CREATE sometimes gets a valid name. */
    private static long nameBuffer(HypercallDriver d) {
        long buffer = d.call(HC_KMALLOC, 32, ALLOC_ZERO);
        d.machine().machine().ram().write(d.memory().root().toPhysical(VirtAddr.of(buffer)).value(), "fuzz\0".getBytes(StandardCharsets.US_ASCII));
        return buffer;
    }

    private static HypercallDriver driver() {
        if (driver == null) {
            driver = new HypercallDriver();
        }
        return driver;
    }

    @AfterContainer
    static void close() {
        System.out.printf("kemu.fuzz: %d hypercall sequences, %d random hypercalls%n", sequencesRun, callsMade);
        if (driver != null) {
            driver.close();
            driver = null;
        }
    }
}
