package dev.kemu.boot.acpi;

import dev.kemu.machine.GuestRam;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A kernel's view of the ACPI tables, written independently of the writer: the RSDP scan of the EBDA's
 * first KiB and of 0xE0000-0xFFFFF on 16-byte boundaries, checksums, and the MADT's entries.
 */
final class AcpiReader {
    record Rsdp(long address, int revision, long rsdt, long xsdt) {}

    record MadtEntry(int type, byte[] body) {}

    record Madt(long localApicAddress, int flags, List<MadtEntry> entries) {}

    private final GuestRam ram;

    AcpiReader(GuestRam ram) {
        this.ram = ram;
    }

    Optional<Rsdp> findRsdp() {
        long ebda = (long) ram.read16(0x40e) << 4;
        if (ebda != 0) {
            Optional<Rsdp> found = scan(ebda, ebda + 1024);
            if (found.isPresent()) {
                return found;
            }
        }
        return scan(0xe0000, 0x100000);
    }

    private Optional<Rsdp> scan(long from, long to) {
        for (long at = from; at < to; at += 16) {
            if (ascii(at, 8).equals("RSD PTR ") && sum(at, 20) == 0) {
                int revision = ram.read8(at + 15);
                if (revision >= 2 && sum(at, ram.read32(at + 20)) != 0) {
                    throw new AssertionError("RSDP at 0x" + Long.toHexString(at) + ": extended checksum wrong");
                }
                return Optional.of(new Rsdp(at, revision, Integer.toUnsignedLong(ram.read32(at + 16)),
                        revision >= 2 ? ram.read64(at + 24) : 0));
            }
        }
        return Optional.empty();
    }

    /** The table addresses an RSDT (4-byte entries) or XSDT (8-byte entries) lists, after checking it. */
    List<Long> entries(long table, String signature, int entryBytes) {
        int length = checkedTable(table, signature);
        List<Long> out = new ArrayList<>();
        for (long at = table + 36; at < table + length; at += entryBytes) {
            out.add(entryBytes == 4 ? Integer.toUnsignedLong(ram.read32(at)) : ram.read64(at));
        }
        return out;
    }

    Madt madt(long table) {
        int length = checkedTable(table, "APIC");
        List<MadtEntry> entries = new ArrayList<>();
        for (long at = table + 44; at < table + length; ) {
            int type = ram.read8(at), entryLength = ram.read8(at + 1);
            if (entryLength < 2) {
                throw new AssertionError("MADT entry of length " + entryLength + " at 0x" + Long.toHexString(at));
            }
            entries.add(new MadtEntry(type, ram.read(at + 2, entryLength - 2)));
            at += entryLength;
        }
        return new Madt(Integer.toUnsignedLong(ram.read32(table + 36)), ram.read32(table + 40), entries);
    }

    /** The table's length, after checking its signature and that it sums to 0. */
    int checkedTable(long table, String signature) {
        if (!ascii(table, 4).equals(signature)) {
            throw new AssertionError("expected " + signature + " at 0x" + Long.toHexString(table) + ", found " + ascii(table, 4));
        }
        int length = ram.read32(table + 4);
        if (sum(table, length) != 0) {
            throw new AssertionError(signature + " at 0x" + Long.toHexString(table) + ": checksum wrong");
        }
        return length;
    }

    private int sum(long at, int length) {
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += ram.read8(at + i);
        }
        return sum & 0xff;
    }

    private String ascii(long at, int length) {
        return new String(ram.read(at, length), StandardCharsets.US_ASCII);
    }
}
