package dev.kemu.kernel;

import dev.kemu.kernel.mm.AddressSpace;
import dev.kemu.kernel.mm.AddressSpaces;
import dev.kemu.kernel.mm.SpaceResult;
import dev.kemu.machine.PageTableEntry;
import dev.kemu.machine.VirtAddr;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random create / clone / write / read / unmap / remap / destroy sequences against a reference
 * model in which every space owns a private copy of its pages (what fork promises). After each
 * step the checkers prove no frame is freed while an entry maps it and every reference count is
 * exact; every page reads what the model says (so a child's write never shows in the parent);
 * destroying everything gives back every frame.
 */
class CopyOnWriteModelTest {
    private static final long BASE = 0x1000_0000;
    private static final int PAGES = 8;
    private static final int MAX_SPACES = 4;

    /** One space of the model: page contents (absent = never written, reads 0) and unmapped pages. */
    private record Model(AddressSpace space, Map<Integer, Integer> bytes, Set<Integer> holes) {
        Model copy(AddressSpace child) {
            return new Model(child, new HashMap<>(bytes), new HashSet<>(holes));
        }
    }

    @Property(tries = 150)
    void randomSpaceOperations_matchPrivateCopies_andLeakNothing(
            @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 1_000_000) Integer> steps) {
        try (MmFixture mm = new MmFixture()) {
            AddressSpaces spaces = mm.memory.spaces();
            UserAccess cpu = new UserAccess(spaces, mm.ram);
            List<String> baseline = warmUp(mm, spaces, cpu);
            List<Model> live = new ArrayList<>();
            List<String> trace = new ArrayList<>();
            for (int step : steps) {
                int op = step % 7, which = (step / 7) % MAX_SPACES, page = (step / 28) % PAGES, value = 1 + (step / 224) % 250;
                long va = BASE + page * 4096L;
                Model model = live.isEmpty() ? null : live.get(which % live.size());
                switch (op) {
                    case 0 -> {
                        if (live.size() < MAX_SPACES) {
                            AddressSpace space = spaces.create().orElseThrow();
                            assertEquals(SpaceResult.OK, spaces.map(space, VirtAddr.of(BASE), PAGES * 4096L,
                                    PageTableEntry.WRITABLE | PageTableEntry.USER));
                            live.add(new Model(space, new HashMap<>(), new HashSet<>()));
                            trace.add("create " + space.id());
                        }
                    }
                    case 1 -> {
                        if (model != null && live.size() < MAX_SPACES) {
                            AddressSpace child = spaces.clone(model.space()).orElseThrow();
                            live.add(model.copy(child));
                            trace.add("clone " + model.space().id() + " -> " + child.id());
                        }
                    }
                    case 2, 3 -> {
                        if (model != null) {
                            trace.add("write " + model.space().id() + " page " + page + " = " + value);
                            boolean written = cpu.write(model.space(), va, value);
                            assertEquals(!model.holes().contains(page), written, String.join("\n", trace));
                            if (written) {
                                model.bytes().put(page, value);
                            }
                        }
                    }
                    case 4 -> {
                        if (model != null && !model.holes().contains(page)) {
                            trace.add("read " + model.space().id() + " page " + page);
                            assertEquals(model.bytes().getOrDefault(page, 0), cpu.read(model.space(), va).orElseThrow(),
                                    String.join("\n", trace));
                        }
                    }
                    case 5 -> {
                        if (model != null) {
                            trace.add("unmap/remap " + model.space().id() + " page " + page);
                            if (model.holes().remove(page)) {
                                assertEquals(SpaceResult.OK, spaces.map(model.space(), VirtAddr.of(va), 4096,
                                        PageTableEntry.WRITABLE | PageTableEntry.USER));
                            } else {
                                assertEquals(SpaceResult.OK, spaces.unmap(model.space(), VirtAddr.of(va), 4096));
                                model.holes().add(page);
                                model.bytes().remove(page);
                            }
                        }
                    }
                    default -> {
                        if (model != null) {
                            trace.add("destroy " + model.space().id());
                            assertEquals(SpaceResult.OK, spaces.destroy(model.space()));
                            live.remove(model);
                        }
                    }
                }
                assertEquals(List.of(), mm.memory.check(), String.join("\n", trace));
                for (Model m : live) {
                    for (int p = 0; p < PAGES; p++) {
                        assertEquals(m.bytes().getOrDefault(p, 0), cpu.peek(m.space(), BASE + p * 4096L),
                                "space " + m.space().id() + " page " + p + " after\n" + String.join("\n", trace));
                    }
                }
            }
            for (Model m : live) {
                assertEquals(SpaceResult.OK, spaces.destroy(m.space()));
            }
            assertEquals(baseline, mm.frameState(), "every frame is back after destroying all spaces\n" + String.join("\n", trace));
            assertEquals(List.of(), mm.memory.check());
        }
    }

    /** Creates the one-time pieces (descriptor cache, vmalloc PDPT, zero page) and returns the frame state after. */
    private static List<String> warmUp(MmFixture mm, AddressSpaces spaces, UserAccess cpu) {
        AddressSpace space = spaces.create().orElseThrow();
        spaces.map(space, VirtAddr.of(BASE), 4096, PageTableEntry.WRITABLE | PageTableEntry.USER);
        cpu.read(space, BASE);
        spaces.destroy(space);
        cpu.faults.clear();
        return mm.frameState();
    }
}
