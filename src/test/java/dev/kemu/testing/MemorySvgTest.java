package dev.kemu.testing;

import dev.kemu.debug.svg.MemorySvg;
import dev.kemu.debug.svg.VirtualRegion;
import dev.kemu.kernel.mm.FrameType;
import dev.kemu.kernel.mm.PhysRange;
import dev.kemu.kernel.mm.PhysicalMemory;
import dev.kemu.kernel.slab.SlabInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memory picture of kemu's booted kernel after a snippet allocated from every allocator: well-formed, complete, counted. */
@ExtendWith(KemuExtension.class)
class MemorySvgTest {
    private static final String ALLOCATE = """
                mov edi, 40
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov rbx, rax
                mov edi, 10000
                xor esi, esi
                HYPERCALL HC_KMALLOC
                mov r12, rax
                mov edi, 8192
                HYPERCALL HC_VMALLOC
                mov r13, rax
            """;

    private record Picture(Document document, GuestRun run) {
        List<Element> rects() {
            NodeList nodes = document.getElementsByTagName("rect");
            List<Element> rects = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                rects.add((Element) nodes.item(i));
            }
            return rects;
        }

        List<Element> withClass(String name) {
            return rects().stream().filter(r -> List.of(r.getAttribute("class").split(" ")).contains(name)).toList();
        }
    }

    private static Picture picture(Guest guest) throws Exception {
        GuestRun run = guest.run(ALLOCATE);
        assertTrue(run.completed(), run.describe());
        String svg = MemorySvg.render(run.memory(), VirtualRegion.kernelImage(guest.machine().boot().kernel()));
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document document = factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", document.getDocumentElement().getLocalName());
        assertEquals("http://www.w3.org/2000/svg", document.getDocumentElement().getNamespaceURI());
        return new Picture(document, run);
    }

    @Test
    void frameRuns_countAsManyFramesPerTypeAsTheMemoryReportsMap(Guest guest) throws Exception {
        Picture picture = picture(guest);
        Map<String, Long> drawn = new TreeMap<>();
        for (Element rect : picture.withClass("frame")) {
            String type = List.of(rect.getAttribute("class").split(" ")).get(1);
            drawn.merge(type, Long.parseLong(rect.getAttribute("data-frames")), Long::sum);
        }
        Map<String, Long> reported = new TreeMap<>();
        for (PhysRange range : PhysicalMemory.map(picture.run().memory().root())) {
            reported.merge("frame-" + range.type().name().toLowerCase().replace('_', '-'), range.frames(), Long::sum);
        }
        assertEquals(reported, drawn);
        for (String type : List.of("frame-kernel-image", "frame-page-table", "frame-slab", "frame-heap", "frame-vmalloc",
                "frame-free", "frame-reserved")) {
            assertTrue(drawn.containsKey(type), type + " missing from " + drawn);
        }
    }

    @Test
    void slabsAndPageTables_areColouredByOwner(Guest guest) throws Exception {
        Picture picture = picture(guest);
        assertFalse(picture.withClass("owner-kmalloc-64").isEmpty());
        assertFalse(picture.withClass("owner-PML4").isEmpty());
        assertFalse(picture.withClass("owner-PT").isEmpty());
        for (SlabInfo cache : picture.run().slabInfo()) {
            Element bar = picture.document().getElementById("slab-" + cache.name());
            if (bar == null) {
                bar = picture.rects().stream().filter(r -> r.getAttribute("id").equals("slab-" + cache.name()))
                        .findFirst().orElse(null);
            }
            assertNotNull(bar, "no bar for " + cache.name());
            assertEquals(Long.toString(cache.activeObjects()), bar.getAttribute("data-active"), cache.name());
            assertEquals(Long.toString(cache.totalObjects()), bar.getAttribute("data-total"), cache.name());
        }
    }

    @Test
    void virtualViews_showTheKernelImageDirectMapVmallocAreasAndGuards_withTooltips(Guest guest) throws Exception {
        Picture picture = picture(guest);
        for (String kind : List.of("vregion-kernel-image", "vregion-direct-map", "vregion-vmalloc-area", "vregion-vmalloc",
                "vregion-guard", "vregion-free")) {
            assertFalse(picture.withClass(kind).isEmpty(), kind);
        }
        long area = picture.run().register(dev.kemu.unicorn.X86Reg.R13);
        assertTrue(picture.withClass("vregion-vmalloc").stream().anyMatch(r -> title(r).contains(
                String.format("V0x%016x-V0x%016x (8 KiB)", area, area + 8192))));
        Map<String, Integer> ids = new HashMap<>();
        for (Element rect : picture.rects()) {
            assertFalse(title(rect).isEmpty(), "a rect without a tooltip: " + rect.getAttribute("class"));
            if (!rect.getAttribute("id").isEmpty()) {
                ids.merge(rect.getAttribute("id"), 1, Integer::sum);
            }
        }
        ids.forEach((id, count) -> assertEquals(1, count, "id " + id + " is not unique"));
        for (String section : List.of("physical", "virtual", "vmalloc", "slabs", "legend")) {
            assertTrue(sectionPresent(picture.document(), section), section);
        }
    }

    private static String title(Element rect) {
        NodeList titles = rect.getElementsByTagName("title");
        return titles.getLength() == 0 ? "" : titles.item(0).getTextContent();
    }

    private static boolean sectionPresent(Document document, String id) {
        NodeList groups = document.getElementsByTagName("g");
        for (int i = 0; i < groups.getLength(); i++) {
            if (((Element) groups.item(i)).getAttribute("id").equals(id)) {
                return true;
            }
        }
        return false;
    }
}
