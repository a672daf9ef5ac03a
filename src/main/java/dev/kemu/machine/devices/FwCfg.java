package dev.kemu.machine.devices;

import dev.kemu.machine.Machine;
import dev.kemu.machine.PortDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * QEMU's firmware configuration device, I/O-port flavour, without DMA (QEMU docs/specs/fw_cfg.rst,
 * hw/nvram/fw_cfg.c): one 2-byte region at 0x510. A 16-bit write selects an item and rewinds its data
 * offset; each 8-bit read (of 0x511, or of 0x510: QEMU's region answers both) returns the next byte of
 * the item, 0 past its end or for an item that does not exist; 8-bit writes are ignored (QEMU dropped
 * data writes in 2.4). Other widths are invalid in QEMU; here they read as all ones and write nothing.
 *
 * <p>Items, little-endian as QEMU's (integers from x86 fw_cfg are LE; the file directory alone is big-endian):
 * <pre>
 *   0x0000 signature   "QEMU"
 *   0x0001 ID          u32 = 1 (traditional interface only, no DMA)
 *   0x0003 RAM_SIZE    u64, guest RAM bytes
 *   0x0005 NB_CPUS     u16, CPUs at boot
 *   0x000f MAX_CPUS    u16, the same (kemu has no CPU hot-plug)
 *   0x0019 FILE_DIR    u32 count (BE) = 0, no named files
 * </pre>
 */
public final class FwCfg implements PortDevice {
    public static final int SELECTOR_PORT = 0x510, DATA_PORT = 0x511, PORTS = 2;
    public static final int SIGNATURE = 0x00, ID = 0x01, RAM_SIZE = 0x03, NB_CPUS = 0x05, MAX_CPUS = 0x0f,
            FILE_DIR = 0x19;
    private static final int ENTRY_MASK = 0x3fff, ARCH_LOCAL = 0x8000;
    private static final Logger log = LoggerFactory.getLogger(FwCfg.class);

    private final Map<Integer, byte[]> items = new HashMap<>();
    private byte[] selected = new byte[0];
    private int offset;

    /** The items of a machine with {@code ramBytes} of RAM and {@code cpus} CPUs. */
    public FwCfg(long ramBytes, int cpus) {
        items.put(SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(ID, little(4).putInt(1).array());
        items.put(RAM_SIZE, little(8).putLong(ramBytes).array());
        items.put(NB_CPUS, little(2).putShort((short) cpus).array());
        items.put(MAX_CPUS, little(2).putShort((short) cpus).array());
        items.put(FILE_DIR, ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(0).array());
    }

    private static ByteBuffer little(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void write(Machine machine, int port, int size, int value) {
        if (size == 2 && port == SELECTOR_PORT) {
            select(value & 0xffff);
        } else if (size != 1) {
            log.debug("fw_cfg: {}-byte write of 0x{} to port 0x{} ignored (QEMU accepts 16-bit selects and 8-bit "
                    + "data only)", size, Integer.toHexString(value), Integer.toHexString(port));
        }
    }

    @Override
    public int read(Machine machine, int port, int size) {
        if (size != 1) {
            return -1;
        }
        return offset < selected.length ? selected[offset++] & 0xff : 0;
    }

    /**
     * Selects item {@code key} and rewinds to its first byte. As in QEMU, bit 14 (the old write channel) is
     * ignored and bit 15 selects the architecture's own items, of which kemu has none (QEMU's x86 ones are
     * its ACPI, SMBIOS and e820 blobs for SeaBIOS), so they read as 0.
     */
    public void select(int key) {
        boolean architectureItem = (key & ARCH_LOCAL) != 0;
        selected = architectureItem ? new byte[0] : items.getOrDefault(key & ENTRY_MASK, new byte[0]);
        offset = 0;
    }
}
