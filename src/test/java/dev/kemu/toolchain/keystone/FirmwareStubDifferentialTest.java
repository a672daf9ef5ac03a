package dev.kemu.toolchain.keystone;

import dev.kemu.boot.KernelSources;
import dev.kemu.elf.ElfImage;
import dev.kemu.elf.Segment;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kemu's firmware stub ({@code kernel-asm/firmware.S}: 64-bit entry, the drop to 32-bit protected mode,
 * its GDT) assembled by Keystone at its link address gives the GNU-linked stub's bytes: the code from
 * {@code fw_entry} to the end of {@code .text}, the data, and every label's address. (Between the
 * sections ld pads the separate output sections of {@code linker/firmware.ld} with zeros, the snippet
 * layout with NOPs; the gap holds nothing the CPU runs.)
 */
class FirmwareStubDifferentialTest {
    private static final long LINK_ADDRESS = 0x8000; // linker/firmware.ld

    @Test
    void keystoneFirmwareStub_equalsTheGnuLinkedOne() throws IOException {
        assumeTrue(KeystoneModule.available(), () -> KeystoneModule.unavailableReason().orElse(""));
        KernelSources sources = KernelSources.defaults();
        ElfImage gnu = ElfImage.read(sources.buildFirmware());
        Path firmware = Path.of("kernel-asm/firmware.S").toAbsolutePath();
        Path inc = sources.includeDir().resolve("kemu.inc");
        String text = Files.readString(firmware).replace(".include \"kemu.inc\"", "");
        KeystoneLinker.Linked keystone = new KeystoneLinker().link(firmware.toString(), List.of(
                new KeystoneLinker.Source(Files.readString(inc), inc.toString()),
                new KeystoneLinker.Source(text, firmware.toString())), LINK_ADDRESS, name -> OptionalLong.empty());

        for (Map.Entry<String, Long> label : keystone.labels().entrySet()) {
            assertEquals(gnu.symbols().address(label.getKey()), label.getValue(), label.getKey());
        }
        long textEnd = keystone.labels().get("fw_handoff") + 2; // jmp ecx, the last instruction
        assertEquals(hex(gnu, LINK_ADDRESS, textEnd), hex(keystone, LINK_ADDRESS, textEnd), "code");
        long dataStart = keystone.labels().get("fw_gdt");
        long dataEnd = keystone.labels().get("fw_boot_info") + 4;
        assertEquals(hex(gnu, dataStart, dataEnd), hex(keystone, dataStart, dataEnd), "data");
    }

    private static String hex(KeystoneLinker.Linked linked, long from, long to) {
        return HexFormat.of().formatHex(Arrays.copyOfRange(linked.image(), (int) (from - LINK_ADDRESS),
                (int) (to - LINK_ADDRESS)));
    }

    private static String hex(ElfImage image, long from, long to) {
        for (Segment segment : image.segments()) {
            if (from >= segment.vaddr() && to <= segment.vaddr() + segment.data().length) {
                return HexFormat.of().formatHex(Arrays.copyOfRange(segment.data(), (int) (from - segment.vaddr()),
                        (int) (to - segment.vaddr())));
            }
        }
        throw new AssertionError("no segment of " + image.path() + " holds 0x" + Long.toHexString(from));
    }
}
