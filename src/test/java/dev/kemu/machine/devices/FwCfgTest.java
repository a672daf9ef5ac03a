package dev.kemu.machine.devices;

import dev.kemu.testing.Guest;
import dev.kemu.testing.GuestRun;
import dev.kemu.testing.KemuExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** fw_cfg read from guest code as a kernel written for QEMU reads it: select with a 16-bit out, read bytes. */
@ExtendWith(KemuExtension.class)
class FwCfgTest {
    /** rax = the first {@code bytes} bytes of item {@code key}, little-endian. */
    private static String readItem(int key, int bytes) {
        return """
                    mov dx, 0x510
                    mov ax, %d
                    out dx, ax
                    mov dx, 0x511
                    xor ebx, ebx
                    mov ecx, %d
                1:  in al, dx
                    movzx eax, al
                    shl rax, 56
                    shr rbx, 8
                    or rbx, rax
                    dec ecx
                    jnz 1b
                    mov rax, rbx
                    shr rax, %d
                """.formatted(key, bytes, 64 - 8 * bytes);
    }

    @Test
    void signatureIdCpusAndRam_readFromGuestCode_areQemusItemsForThisMachine(Guest guest) {
        GuestRun signature = guest.run(readItem(FwCfg.SIGNATURE, 4));
        assertEquals(0x554d4551L, signature.rax(), "\"QEMU\": " + signature.describe());
        assertEquals(1, guest.run(readItem(FwCfg.ID, 4)).rax(), "traditional interface, no DMA");
        assertEquals(1, guest.run(readItem(FwCfg.NB_CPUS, 2)).rax());
        assertEquals(1, guest.run(readItem(FwCfg.MAX_CPUS, 2)).rax());
        assertEquals(64L << 20, guest.run(readItem(FwCfg.RAM_SIZE, 8)).rax());
        assertEquals(0, guest.run(readItem(FwCfg.FILE_DIR, 4)).rax(), "an empty file directory");
    }

    @Test
    void readingPastAnItem_orAnItemThatDoesNotExist_givesZeros(Guest guest) {
        assertEquals(0x554d4551L, guest.run(readItem(FwCfg.SIGNATURE, 8)).rax(), "bytes 4-7 of a 4-byte item are 0");
        assertEquals(0, guest.run(readItem(0x7ff, 8)).rax());
    }

    @Test
    void theDeviceItself_countsTheCpusAndRamItWasMadeWith_andRewindsOnSelect() {
        FwCfg device = new FwCfg(3L << 30, 4);
        device.write(null, FwCfg.SELECTOR_PORT, 2, FwCfg.NB_CPUS);
        assertEquals(4, device.read(null, FwCfg.DATA_PORT, 1));
        assertEquals(0, device.read(null, FwCfg.DATA_PORT, 1));
        device.write(null, FwCfg.SELECTOR_PORT, 2, FwCfg.RAM_SIZE);
        long ram = 0;
        for (int i = 0; i < 8; i++) {
            ram |= (long) device.read(null, FwCfg.SELECTOR_PORT, 1) << (8 * i); // QEMU's region answers 8-bit reads at 0x510 too
        }
        assertEquals(3L << 30, ram);
        device.write(null, FwCfg.SELECTOR_PORT, 2, FwCfg.SIGNATURE);
        assertEquals('Q', device.read(null, FwCfg.DATA_PORT, 1));
        assertEquals(-1, device.read(null, FwCfg.DATA_PORT, 2), "a 16-bit read is not valid in QEMU's region");
        assertEquals('E', device.read(null, FwCfg.DATA_PORT, 1), "and moved nothing");
    }
}
