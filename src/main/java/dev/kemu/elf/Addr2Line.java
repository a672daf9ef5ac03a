package dev.kemu.elf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * Source lines from GNU binutils' {@code addr2line}: one long-lived {@code addr2line -e ELF -a -f -C -i}
 * per ELF file, fed addresses on its standard input, its answers cached. We found no maintained Java
 * DWARF library to depend on, and addr2line reads every DWARF version gcc and clang write.
 *
 * <p>Each question is the address followed by a sentinel address no code lives at ({@link #SENTINEL}):
 * with {@code -a} addr2line prints every address before its answer, so the answer to ours ends where
 * the sentinel's address line starts, however many inlined frames ({@code -i}) it has. The process
 * ends by itself when the JVM exits and its standard input closes.
 */
public final class Addr2Line implements SourceLines {
    private static final Logger log = LoggerFactory.getLogger(Addr2Line.class);
    /** The program to run; {@code -Dkemu.addr2line=PATH} chooses another (or a missing one, in tests). */
    public static final String EXECUTABLE_PROPERTY = "kemu.addr2line";
    private static final long SENTINEL = -1L;
    private static final Pattern ADDRESS_LINE = Pattern.compile("0x\\p{XDigit}+");
    private static final int MAX_PROCESSES = 8, MAX_CACHED = 1 << 16;
    private static final AtomicBoolean missingNoted = new AtomicBoolean();

    /** One process per file version, shared by every image read from it; the least recently used goes first. */
    private static final Map<FileVersion, Addr2Line> LIVE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileVersion, Addr2Line> eldest) {
            if (size() > MAX_PROCESSES) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };

    private final Path elf;
    private final String executable;
    private final Map<Long, Optional<SourceLine>> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Optional<SourceLine>> eldest) {
            return size() > MAX_CACHED;
        }
    };
    private Process process;
    private Writer questions;
    private BufferedReader answers;
    private boolean unusable;

    private Addr2Line(Path elf, String executable) {
        this.elf = elf;
        this.executable = executable;
    }

    /**
     * The source lines of the ELF file at {@code elf}: {@link SourceLines#NONE} when it has no DWARF
     * line information, else a lookup that starts addr2line at its first question (not before: most
     * runs never symbolize anything).
     */
    public static SourceLines forImage(Path elf, boolean hasLineInformation) {
        return forImage(elf, hasLineInformation, System.getProperty(EXECUTABLE_PROPERTY, "addr2line"));
    }

    /** The same with {@code executable} as addr2line (tests use a missing one). */
    static SourceLines forImage(Path elf, boolean hasLineInformation, String executable) {
        if (!hasLineInformation) {
            return NONE;
        }
        Optional<FileVersion> version = FileVersion.of(elf, executable);
        if (version.isEmpty()) {
            return NONE; // parsed from bytes whose file is gone: there is nothing for addr2line to read
        }
        return address -> shared(version.get()).at(address);
    }

    private static Addr2Line shared(FileVersion version) {
        synchronized (LIVE) {
            return LIVE.computeIfAbsent(version, v -> new Addr2Line(v.path(), v.executable()));
        }
    }

    @Override
    public synchronized Optional<SourceLine> at(long address) {
        Optional<SourceLine> known = cache.get(address);
        if (known != null) {
            return known;
        }
        Optional<SourceLine> line = unusable ? Optional.empty() : ask(address);
        cache.put(address, line);
        return line;
    }

    private Optional<SourceLine> ask(long address) {
        try {
            if (process == null && !start()) {
                return Optional.empty();
            }
            questions.write(String.format("0x%x%n0x%x%n", address, SENTINEL));
            questions.flush();
            String header = answers.readLine();
            if (header == null || !ADDRESS_LINE.matcher(header).matches()) {
                return stopped("answered '" + header + "' where the address 0x" + Long.toHexString(address) + " was expected");
            }
            // Pairs of function and location, innermost inlined frame first, up to the sentinel's address line.
            Optional<SourceLine> innermost = null;
            for (String line = answers.readLine(); ; line = answers.readLine()) {
                if (line == null) {
                    return stopped("stopped answering");
                }
                if (ADDRESS_LINE.matcher(line).matches()) {
                    break;
                }
                String location = answers.readLine();
                if (location == null) {
                    return stopped("stopped answering");
                }
                if (innermost == null) {
                    innermost = parse(location);
                }
            }
            answers.readLine(); // the sentinel's function ("??") and location ("??:0")
            answers.readLine();
            return innermost == null ? Optional.empty() : innermost;
        } catch (IOException e) {
            return stopped("failed: " + e.getMessage());
        }
    }

    private boolean start() {
        try {
            process = new ProcessBuilder(executable, "-e", elf.toString(), "-a", "-f", "-C", "-i")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            unusable = true;
            if (!missingNoted.getAndSet(true)) {
                log.warn("'{}' (GNU binutils) cannot be run ({}): reports show symbols without source lines; "
                        + "install binutils to see file:line", executable, e.getMessage());
            }
            return false;
        }
        questions = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        return true;
    }

    private Optional<SourceLine> stopped(String what) {
        unusable = true;
        log.warn("addr2line for {} {}: source lines are no longer shown for it", elf, what);
        close();
        return Optional.empty();
    }

    /** {@code /src/kernel.c:42}, {@code kernel.c:42 (discriminator 3)}; {@code ??:0} and {@code file:?} know nothing. */
    static Optional<SourceLine> parse(String location) {
        String text = location.strip();
        int note = text.indexOf(" (");
        if (note > 0) {
            text = text.substring(0, note);
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            return Optional.empty();
        }
        String file = text.substring(0, colon);
        if (file.equals("??")) {
            return Optional.empty();
        }
        try {
            int line = Integer.parseInt(text.substring(colon + 1));
            return line > 0 ? Optional.of(new SourceLine(file, line)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private synchronized void close() {
        if (process != null) {
            process.destroy();
            process = null;
        }
    }

    /** A file as it is now, and the addr2line that reads it: a rebuilt kernel at the same path gets its own process. */
    private record FileVersion(Path path, long size, long modified, String executable) {
        static Optional<FileVersion> of(Path elf, String executable) {
            Path path = dev.kemu.nativelib.ProcessDirectory.absolute(elf).normalize(); // the daemon's client's directory
            try {
                return Optional.of(new FileVersion(path, Files.size(path), Files.getLastModifiedTime(path).toMillis(),
                        executable));
            } catch (IOException e) {
                log.debug("no line information for {}: {}", path, e.toString());
                return Optional.empty();
            }
        }
    }
}
