package dev.kemu.kernel.slab;

import dev.kemu.kernel.mm.BuddyAllocator;
import dev.kemu.kernel.mm.FrameTable;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.FreeResult;
import dev.kemu.kernel.mm.Gfp;
import dev.kemu.kernel.mm.KernelPanic;
import dev.kemu.kernel.mm.MmRoot;
import dev.kemu.kernel.mm.PageAllocator;
import dev.kemu.machine.GuestRam;
import dev.kemu.machine.PhysAddr;
import dev.kemu.machine.VirtAddr;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import static dev.kemu.kernel.mm.MmLayout.PAGE;
import static dev.kemu.kernel.slab.CacheLayout.*;

/**
 * kmem_cache_create / alloc / free / destroy over guest RAM. Slabs come from the buddy
 * allocator; free objects are threaded into a freelist through their first 8 bytes (after the object when it has a constructor); a
 * per-slab bitmap makes double frees detectable. Objects are direct-map virtual addresses.
 * Constructors of caches created from Java are host callbacks kept in a table by id (code,
 * not kernel state); guest-created caches name a guest function that guest code calls (docs/ABI.md).
 */
public final class SlabAllocator {
    /** Largest slab: 2^3 frames. */
    static final int MAX_SLAB_ORDER = 3;
    static final int MIN_OBJECTS = 8;

    private final MmRoot root;
    private final GuestRam ram;
    private final BuddyAllocator buddy;
    private final FrameTable frames;
    private final SlabHeader header;
    private final List<ObjectConstructor> constructors = new ArrayList<>();
    private final int emptyLimit;
    /** The direct map of RAM, fixed when the memory manager is set up: objects convert without a boxed address. */
    private final long directMapBase;
    private final long ramBytes;
    private final SlubDebugger debugger;
    /** The debug modes caches created from now on get (--slub-debug); host configuration, not kernel state. */
    private SlubDebug debugPolicy = SlubDebug.OFF;
    private SlabWatcher watcher = SlabWatcher.NONE;

    /** Told when a slab's frames join or leave a cache (--kasan watches exactly those pages). */
    public interface SlabWatcher {
        SlabWatcher NONE = new SlabWatcher() {
            public void added(long slabPhys, long bytes) {}
            public void removed(long slabPhys) {}
        };

        void added(long slabPhys, long bytes);

        void removed(long slabPhys);
    }

    /** Sends slab arrivals and departures to {@code watcher}, starting with every slab that exists now. */
    public void watchSlabs(SlabWatcher watcher) {
        this.watcher = watcher;
        for (int id = 0; id < KmemCache.describable(root); id++) {
            if (isActive(id)) {
                KmemCache cache = cache(id);
                for (long slab : slabsOf(cache)) {
                    watcher.added(slab, PAGE << cache.slabOrder());
                }
            }
        }
    }

    public SlabAllocator(MmRoot root, BuddyAllocator buddy) {
        this.root = root;
        this.ram = root.ram();
        this.buddy = buddy;
        this.frames = buddy.frames();
        this.header = new SlabHeader(ram);
        this.emptyLimit = root.emptySlabLimit();
        this.directMapBase = root.directMapBase().value();
        this.ramBytes = root.ramBytes();
        constructors.add(null); // id 0 = no constructor
        this.debugger = new SlubDebugger(root);
    }

    /** The --slub-debug modes for caches created after this call (kmalloc's at HC_MM_INIT). */
    public void debugNewCaches(SlubDebug policy) {
        this.debugPolicy = policy;
    }

    /** Where debug reports go, and who the alloc/free sites are (U). */
    public void reportDebugTo(CallSite site, java.util.function.LongFunction<String> symbolizer,
                              java.util.function.Consumer<SlubReport> sink) {
        debugger.reportTo(site, symbolizer, sink);
    }

    /**
     * Checks every object of every debug cache (Linux's validate_slab_cache): red zones, poison
     * and padding; each broken pattern goes to the report sink. Returns the objects reported.
     */
    public int validateDebugCaches() {
        int bad = 0;
        for (int id = 0; id < KmemCache.describable(root); id++) {
            KmemCache cache = KmemCache.of(root, id);
            if (cache.active() && cache.debugFlags() != 0) {
                bad += debugger.validate(cache, slabsOf(cache));
            }
        }
        return bad;
    }

    /** The slabs of a cache: current first, then partial, full, empty; each list bounded by its count. */
    public List<Long> slabsOf(KmemCache cache) {
        // Lists and counts are guest RAM: each slab is listed once, however the links loop or the counts lie.
        java.util.LinkedHashSet<Long> slabs = new java.util.LinkedHashSet<>();
        if (isSlabAddress(cache.current())) {
            slabs.add(cache.current());
        }
        for (int list = LIST_PARTIAL; list <= LIST_EMPTY; list++) {
            int left = cache.listCount(list);
            for (long slab = cache.listHead(list); slab != 0 && left-- > 0 && isSlabAddress(slab) && slabs.add(slab);
                 slab = header.next(slab)) {
                // added by the condition
            }
        }
        return new ArrayList<>(slabs);
    }

    public MmRoot root() {
        return root;
    }

    /**
     * Creates a cache; returns its id, or empty when the arguments are unusable (size 0 or
     * above a max-order slab, alignment not a power of two) or the cache table is full.
     */
    public Optional<Integer> create(String name, int objectSize, int align, ObjectConstructor constructor) {
        if (constructor == null) {
            return create(name, objectSize, align, 0);
        }
        constructors.add(constructor);
        Optional<Integer> id = create(name, objectSize, align, constructors.size() - 1);
        if (id.isEmpty()) {
            constructors.removeLast();
        }
        return id;
    }

    /** Lowest address a guest constructor may have: the kernel image's top 2 GiB (see {@link CacheLayout}). */
    public static final long GUEST_CONSTRUCTOR_MIN = 0xffff_ffff_8000_0000L;

    /**
     * Creates a cache whose objects guest code constructs, once per slab population: allocation
     * hands out the new slab's objects to construct ({@link #nextToConstruct}); empty as for
     * {@link #create}, or when {@code constructor} is below {@link #GUEST_CONSTRUCTOR_MIN}.
     */
    public Optional<Integer> createWithGuestConstructor(String name, int objectSize, int align, VirtAddr constructor) {
        if (Long.compareUnsigned(constructor.value(), GUEST_CONSTRUCTOR_MIN) < 0) {
            return Optional.empty();
        }
        return create(name, objectSize, align, (int) constructor.value());
    }

    private Optional<Integer> create(String name, int objectSize, int align, int ctorField) {
        return create(name, objectSize, align, ctorField, 0);
    }

    /** A kmalloc size-class cache whose slabs come from {@code zone} ({@link CacheLayout#ZONE_ANY} ...). */
    Optional<Integer> createKmalloc(String name, int size, int zone) {
        return create(name, size, size, 0, FLAG_KMALLOC | zone << FLAG_ZONE_SHIFT);
    }

    private Optional<Integer> create(String name, int objectSize, int align, int ctorField, int extraFlags) {
        if (objectSize <= 0 || objectSize > (PAGE << MAX_SLAB_ORDER) / 2 || align < 0 || Integer.bitCount(Math.max(align, 1)) != 1
                || align > PAGE) {
            return Optional.empty();
        }
        int id = freeCacheSlot();
        if (id < 0) {
            return Optional.empty();
        }
        int alignment = Math.max(8, align);
        int debug = debugPolicy.flagsFor(name);
        // With a constructor or debug modes the free pointer, red zone and tracks follow the object (ObjectSlot).
        int footprint = ObjectSlot.of(objectSize, ctorField != 0, debug).end();
        int stride = (footprint + alignment - 1) & -alignment;
        int order = 0;
        int objects = objectsFor(order, stride, alignment);
        while (objects < MIN_OBJECTS && order < MAX_SLAB_ORDER) {
            order++;
            objects = objectsFor(order, stride, alignment);
        }
        long descriptor = KmemCache.of(root, id).descriptor();
        ram.fill(descriptor, SIZE, (byte) 0);
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        ram.write(descriptor + NAME, java.util.Arrays.copyOf(nameBytes, Math.min(nameBytes.length, NAME_MAX)));
        ram.write32(descriptor + OBJECT_SIZE, objectSize);
        ram.write32(descriptor + ALIGN, alignment);
        ram.write32(descriptor + STRIDE, stride);
        ram.write32(descriptor + PER_SLAB, objects);
        ram.write32(descriptor + ORDER, order);
        ram.write32(descriptor + FIRST_OBJECT, headerSize(objects, alignment));
        ram.write32(descriptor + FLAGS, FLAG_ACTIVE | extraFlags | debug);
        ram.write32(descriptor + CTOR, ctorField);
        return Optional.of(id);
    }

    private int freeCacheSlot() {
        for (int id = 0; id < KmemCache.describable(root); id++) {
            if (!KmemCache.of(root, id).active()) {
                return id;
            }
        }
        return -1;
    }

    private static int headerSize(int objects, int alignment) {
        return (SlabHeader.bytesFor(objects) + alignment - 1) & -alignment;
    }

    private static int objectsFor(int order, int stride, int alignment) {
        long bytes = PAGE << order;
        int n = (int) (bytes / stride);
        while (n > 0 && headerSize(n, alignment) + (long) n * stride > bytes) {
            n--;
        }
        return n;
    }

    public KmemCache cache(int id) {
        KmemCache cache = KmemCache.of(root, id);
        if (!cache.active()) {
            throw new IllegalArgumentException("cache " + id + " is not in use");
        }
        return cache;
    }

    public boolean isActive(int id) {
        return id >= 0 && id < KmemCache.describable(root) && KmemCache.of(root, id).active();
    }

    /**
     * True while the current slab of a guest-constructor cache has objects the constructor has not
     * met: allocation waits until guest code constructed them (HC_CACHE_ALLOC is then -EBUSY), so
     * at most one slab, the current one, is ever half constructed.
     */
    public boolean constructionPending(int id) {
        KmemCache cache = cache(id);
        long slab = cache.current();
        return cache.guestConstructor().isPresent() && slab != 0
                && frames.slabConstructed(slab / PAGE) < cache.objectsPerSlab();
    }

    /**
     * The next object of the current slab that the guest constructor has not met, counted as met
     * from now on; empty when none is left. Objects are handed out in index order, allocated and
     * free alike: a slab's objects are constructed once, when the slab is populated (Bonwick).
     */
    public Optional<VirtAddr> nextToConstruct(int id) {
        if (!constructionPending(id)) {
            return Optional.empty();
        }
        KmemCache cache = cache(id);
        long slab = cache.current();
        requireSlab(cache, slab, "current slab");
        int index = frames.slabConstructed(slab / PAGE);
        frames.setSlabConstructed(slab / PAGE, index + 1);
        return Optional.of(root.toVirtual(PhysAddr.of(slab + cache.firstObject() + (long) index * cache.stride())));
    }

    /** Allocates one object; returns its direct-map address, or empty when out of memory. */
    public Optional<VirtAddr> allocate(int id, boolean zero) {
        long object = allocateObject(id, zero);
        return object == 0 ? Optional.empty() : Optional.of(VirtAddr.of(object));
    }

    /** {@link #allocate} as a raw address, 0 when out of memory: kmalloc's hot path, no boxing. */
    long allocateObject(int id, boolean zero) {
        KmemCache cache = cache(id);
        long slab = cache.current();
        if (slab != 0) {
            requireSlab(cache, slab, "current slab");
        }
        // Each guest-RAM read inlines a deep FFM access tree: C2 stops inlining this path part-way
        // (NodeCountInliningCutoff), so every read saved here keeps another one inline.
        long object = slab == 0 ? 0 : header.freelist(slab);
        if (object == 0) {
            slab = replaceCurrent(cache, slab);
            if (slab == 0) {
                return 0;
            }
            object = header.freelist(slab);
        }
        int index = objectIndex(cache, slab, object);
        if (index < 0) {
            throw new KernelPanic(String.format("cache %s: freelist of slab P0x%x holds V0x%x, not an object of that slab",
                    cache.name(), slab, object));
        }
        long objectPhys = physicalOrNone(object);
        int debugFlags = cache.debugFlags();
        int freePointer = cache.freePointerOffset(debugFlags);
        header.setFreelist(slab, ram.read64(objectPhys + freePointer));
        header.setAllocated(slab, index, true);
        header.setInuse(slab, header.inuse(slab) + 1);
        cache.addActive(1);
        if (debugFlags != 0) {
            debugger.onAlloc(cache, slab, objectPhys); // checks the free patterns before anything overwrites them
        }
        if (zero) {
            ram.fill(objectPhys, cache.objectSize(), (byte) 0);
        }
        ram.write64(objectPhys + freePointer, 0); // no freelist pointer leaks to the caller
        return object;
    }

    /** Retires a full current slab to the full list and takes a partial, empty or new one. */
    private long replaceCurrent(KmemCache cache, long full) {
        if (full != 0) {
            link(cache, full, LIST_FULL);
        }
        long slab = cache.listHead(LIST_PARTIAL);
        if (slab == 0) {
            slab = cache.listHead(LIST_EMPTY);
        }
        if (slab != 0) {
            requireSlab(cache, slab, "list head");
            unlink(cache, slab);
        } else {
            slab = grow(cache);
        }
        cache.setCurrent(slab);
        if (slab != 0) {
            header.setList(slab, LIST_CURRENT);
            if (header.freelist(slab) == 0) {
                throw new KernelPanic(String.format("cache %s: slab P0x%x taken as current has an empty freelist",
                        cache.name(), slab));
            }
        }
        return slab;
    }

    /** Frees {@code object} into cache {@code id}; anything but FREED left everything untouched. */
    public FreeResult free(int id, VirtAddr address) {
        KmemCache cache = cache(id);
        long object = address.value();
        long objectPhys = physicalOrNone(object);
        if (objectPhys < 0) {
            return FreeResult.NOT_ALLOCATED;
        }
        long pfn = objectPhys / PAGE;
        FrameType type = frames.type(pfn);
        if (type == FrameType.FREE) {
            return FreeResult.DOUBLE_FREE;
        }
        if (type != FrameType.SLAB) {
            return type == FrameType.HEAP ? FreeResult.WRONG_TYPE : FreeResult.NOT_ALLOCATED;
        }
        long slab = frames.headOf(pfn) * PAGE;
        if (header.cacheId(slab) != id) {
            requireMagic(slab, pfn);
            return FreeResult.WRONG_CACHE;
        }
        return freeInSlab(cache, slab, object, objectPhys);
    }

    /**
     * kfree's path into {@link #free(int, VirtAddr)} past the checks it has made itself: {@code objectPhys}
     * lies in a frame typed SLAB whose head is {@code slab}, and the cache id in that header is {@code id}.
     */
    FreeResult freeKmallocObject(int id, long slab, long object, long objectPhys) {
        return freeInSlab(cache(id), slab, object, objectPhys);
    }

    private void requireMagic(long slab, long pfn) {
        if (header.magic(slab) != SlabHeader.MAGIC_VALUE) {
            throw new KernelPanic(String.format("frame P0x%x is typed SLAB but its slab header at P0x%x has magic 0x%x",
                    pfn * PAGE, slab, header.magic(slab)));
        }
    }

    private FreeResult freeInSlab(KmemCache cache, long slab, long object, long objectPhys) {
        requireMagic(slab, objectPhys / PAGE);
        int index = objectIndex(cache, slab, object);
        if (index < 0) {
            return FreeResult.NOT_AN_OBJECT;
        }
        int debugFlags = cache.debugFlags();
        boolean debug = debugFlags != 0;
        if (!header.isAllocated(slab, index)) {
            if (debug) {
                debugger.reportDoubleFree(cache, slab, objectPhys);
            }
            return FreeResult.DOUBLE_FREE;
        }
        if (debug) {
            if (!debugger.checkFree(cache, slab, objectPhys)) {
                return FreeResult.CORRUPTED;
            }
            debugger.onFreed(cache, objectPhys);
        }
        header.setAllocated(slab, index, false);
        ram.write64(objectPhys + cache.freePointerOffset(debugFlags), header.freelist(slab));
        header.setFreelist(slab, object);
        int inuse = header.inuse(slab) - 1;
        header.setInuse(slab, inuse);
        cache.addActive(-1);
        if (slab == cache.current()) {
            return FreeResult.FREED;
        }
        if (inuse > 0) {
            moveTo(cache, slab, LIST_PARTIAL);
        } else {
            moveTo(cache, slab, LIST_EMPTY);
            if (cache.listCount(LIST_EMPTY) > emptyLimit) {
                release(cache, slab);
            }
        }
        return FreeResult.FREED;
    }

    /** Index of {@code object} (direct-map address) in {@code slab}, or -1 when it is not the start of one of its objects. */
    private int objectIndex(KmemCache cache, long slab, long object) {
        long objectPhys = physicalOrNone(object);
        long offset = objectPhys - slab - cache.firstObject();
        int stride = cache.stride();
        if (objectPhys < 0 || offset < 0 || stride <= 0) {
            return -1;
        }
        long index = offset / stride; // one division: both kmalloc and kfree pay it
        if (index * stride != offset || index >= cache.objectsPerSlab() || objectPhys + 8 > ram.size()) {
            return -1;
        }
        return (int) index;
    }

    /** {@link MmRoot#physicalOf} as a raw address, -1 outside the direct map: kmalloc and kfree's hot path. */
    long physicalOrNone(long object) {
        long offset = object - directMapBase;
        return Long.compareUnsigned(offset, ramBytes) < 0 ? offset : -1;
    }

    /**
     * Stops with the facts when a slab pointer read from guest RAM (a list head or link) is
     * not a slab header of this cache: following it would read or write anywhere.
     */
    private void requireSlab(KmemCache cache, long slab, String where) {
        if (!isSlabAddress(slab)) {
            throw new KernelPanic(String.format("cache %s: %s P0x%x is not a page inside RAM", cache.name(), where, slab));
        }
        if (!header.belongsTo(slab, cache.id())) {
            throw new KernelPanic(String.format("cache %s: %s P0x%x has magic 0x%x and cache id %d, expected 0x%x and %d",
                    cache.name(), where, slab, header.magic(slab), header.cacheId(slab), SlabHeader.MAGIC_VALUE,
                    cache.id()));
        }
    }

    private boolean isSlabAddress(long slab) {
        return slab > 0 && (slab & (PAGE - 1)) == 0 && slab + PAGE <= ram.size();
    }

    /** The id of the cache that owns the slab object at {@code objectPhys}, or empty if it is not in a slab. */
    public OptionalInt owner(PhysAddr objectPhys) {
        int id = ownerId(objectPhys.value());
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** {@link #owner} as a raw id, -1 when not in a slab. */
    int ownerId(long objectPhys) {
        long pfn = objectPhys / PAGE;
        return frames.type(pfn) == FrameType.SLAB ? header.cacheId(slabOf(pfn)) : -1;
    }

    /** The slab header of a frame the caller found typed SLAB. */
    long slabOf(long pfn) {
        return frames.headOf(pfn) * PAGE;
    }

    /** The cache id in the header of {@code slab}. */
    int cacheIdOf(long slab) {
        return header.cacheId(slab);
    }

    /** Gives every empty slab of the cache back to the buddy allocator. */
    public void shrink(int id) {
        KmemCache cache = cache(id);
        long current = cache.current();
        if (current != 0 && header.inuse(current) == 0) {
            cache.setCurrent(0);
            header.setList(current, -1);
            release(cache, current);
        }
        // Each release unlinks the head; a corrupted list could hand back the same slab forever.
        int left = cache.listCount(LIST_EMPTY);
        for (long slab = cache.listHead(LIST_EMPTY); slab != 0; slab = cache.listHead(LIST_EMPTY)) {
            if (left-- <= 0) {
                throw new KernelPanic(String.format("cache %s: the empty list holds more slabs than it counts (%d)",
                        cache.name(), cache.listCount(LIST_EMPTY)));
            }
            requireSlab(cache, slab, "empty list head");
            release(cache, slab);
        }
    }

    /** Destroys a cache with no live objects; returns {@link FreeResult#IN_USE} (and changes nothing) while objects are live. */
    public FreeResult destroy(int id) {
        KmemCache cache = cache(id);
        if (cache.activeObjects() != 0) {
            return FreeResult.IN_USE;
        }
        shrink(id);
        ram.fill(cache.descriptor(), SIZE, (byte) 0);
        return FreeResult.FREED;
    }

    /** One row per active cache; never throws, whatever the guest wrote into the cache table. */
    public List<SlabInfo> info() {
        List<SlabInfo> rows = new ArrayList<>();
        for (int id = 0; id < KmemCache.describable(root); id++) {
            KmemCache c = KmemCache.of(root, id);
            if (c.active()) {
                boolean currentInUse = isSlabAddress(c.current()) && header.inuse(c.current()) > 0;
                rows.add(new SlabInfo(c.name(), c.activeObjects(), c.totalObjects(), c.objectSize(), c.objectsPerSlab(),
                        1 << c.slabOrder(), c.listCount(LIST_PARTIAL) + c.listCount(LIST_FULL) + (currentInUse ? 1 : 0),
                        c.slabs()));
            }
        }
        return rows;
    }

    private long grow(KmemCache cache) {
        Optional<PhysAddr> block = allocateSlabFrames(cache);
        if (block.isEmpty()) {
            return 0;
        }
        long slab = block.get().value();
        int objects = cache.objectsPerSlab();
        frames.setTag(slab / PAGE, cache.id());
        ram.fill(slab, cache.firstObject(), (byte) 0);
        header.setMagic(slab, SlabHeader.MAGIC_VALUE);
        header.setCacheId(slab, cache.id());
        header.setList(slab, -1);
        long first = slab + cache.firstObject();
        ObjectConstructor ctor = constructor(cache);
        int freePointer = cache.freePointerOffset();
        boolean debug = cache.debugFlags() != 0;
        ObjectSlot slot = ObjectSlot.of(cache);
        if (debug) {
            debugger.padSlab(cache, slab);
        }
        frames.setSlabConstructed(slab / PAGE, 0); // guest constructors run later, see nextToConstruct
        for (int i = objects - 1; i >= 0; i--) {
            PhysAddr objectPhys = PhysAddr.of(first + (long) i * cache.stride());
            VirtAddr object = root.toVirtual(objectPhys);
            if (debug) {
                debugger.initSlot(cache, slot, objectPhys.value(), cache.stride());
            }
            if (ctor != null) {
                ctor.construct(ram, objectPhys, object, cache.objectSize());
            }
            ram.write64(objectPhys.value() + freePointer, header.freelist(slab));
            header.setFreelist(slab, object.value());
        }
        cache.addTotal(objects);
        watcher.added(slab, PAGE << cache.slabOrder());
        return slab;
    }

    /** A slab's frames: the first free block of any zone, or of the cache's zone (DMA32 falls back to DMA). */
    private Optional<PhysAddr> allocateSlabFrames(KmemCache cache) {
        int zone = cache.zone();
        if (zone == ZONE_ANY) {
            return buddy.allocate(cache.slabOrder(), FrameType.SLAB, false);
        }
        return zoneBlock(buddy, cache.slabOrder(), FrameType.SLAB, zone == ZONE_DMA ? Gfp.DMA
                : Gfp.DMA32);
    }

    /** {@code 2^order} frames from the zonelist of the zone modifier {@code gfpZone} (no reserve: the kernel's own). */
    static Optional<PhysAddr> zoneBlock(BuddyAllocator buddy, int order, FrameType type, long gfpZone) {
        return new PageAllocator(buddy).fromZonelist(0, order, type, new Gfp(gfpZone));
    }

    /** The host constructor the descriptor names; the id comes from guest RAM, so it is checked. */
    private ObjectConstructor constructor(KmemCache cache) {
        int id = cache.ctor();
        if (id < 0) {
            return null; // a guest constructor: guest code runs it (nextToConstruct)
        }
        if (id >= constructors.size()) {
            throw new KernelPanic(String.format("cache %s: descriptor at %s names constructor %d, only 0..%d exist",
                    cache.name(), cache.phys(), id, constructors.size() - 1));
        }
        return constructors.get(id);
    }

    private void release(KmemCache cache, long slab) {
        unlink(cache, slab);
        cache.addTotal(-cache.objectsPerSlab());
        header.setMagic(slab, 0);
        watcher.removed(slab);
        FreeResult result = buddy.free(PhysAddr.of(slab), cache.slabOrder(), FrameType.SLAB);
        if (result != FreeResult.FREED) {
            throw new KernelPanic(String.format("cache %s: releasing slab P0x%x failed: %s", cache.name(), slab,
                    result.reason()));
        }
    }

    private void moveTo(KmemCache cache, long slab, int list) {
        if (header.list(slab) != list) {
            unlink(cache, slab);
            link(cache, slab, list);
        }
    }

    private void link(KmemCache cache, long slab, int list) {
        long head = cache.listHead(list);
        if (head != 0) {
            requireSlab(cache, head, "list head");
        }
        header.setNext(slab, head);
        header.setPrev(slab, 0);
        if (head != 0) {
            header.setPrev(head, slab);
        }
        ram.write64(cache.descriptor() + CacheLayout.listHead(list), slab);
        ram.write32(cache.descriptor() + CacheLayout.listCount(list), cache.listCount(list) + 1);
        header.setList(slab, list);
    }

    private void unlink(KmemCache cache, long slab) {
        int list = header.list(slab);
        if (list < 0 || list == LIST_CURRENT) {
            return;
        }
        if (list > LIST_EMPTY) {
            throw new KernelPanic(String.format("cache %s: slab P0x%x says it is on list %d", cache.name(), slab, list));
        }
        long next = header.next(slab);
        long prev = header.prev(slab);
        if (prev != 0) {
            requireSlab(cache, prev, "prev link of slab P0x" + Long.toHexString(slab) + ",");
        }
        if (next != 0) {
            requireSlab(cache, next, "next link of slab P0x" + Long.toHexString(slab) + ",");
        }
        if (prev == 0) {
            ram.write64(cache.descriptor() + CacheLayout.listHead(list), next);
        } else {
            header.setNext(prev, next);
        }
        if (next != 0) {
            header.setPrev(next, prev);
        }
        ram.write32(cache.descriptor() + CacheLayout.listCount(list), cache.listCount(list) - 1);
        header.setList(slab, -1);
    }
}
