package dev.kemu.toolchain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles a set of sources and links them with a script into one ELF, skipping the work
 * when the output is newer than every input (sources, includes, script).
 */
public final class ImageBuilder {
    private final Assembler assembler;
    private final Linker linker;

    public ImageBuilder(Assembler assembler, Linker linker) {
        this.assembler = assembler;
        this.linker = linker;
    }

    public static ImageBuilder gnu() {
        return new ImageBuilder(new GnuAssembler(), new GnuLinker());
    }

    /** Builds {@code output} from {@code sources}; returns {@code output}. */
    public Path build(List<Path> sources, List<Path> includeDirs, Path linkerScript, Path output) {
        try {
            Files.createDirectories(output.toAbsolutePath().getParent());
            if (upToDate(output, sources, includeDirs, linkerScript)) {
                return output;
            }
            Path objectDir = output.resolveSibling(output.getFileName() + ".objs");
            Files.createDirectories(objectDir);
            List<Path> objects = new ArrayList<>();
            for (Path source : sources) {
                Path object = objectDir.resolve(source.getFileName().toString().replaceFirst("\\.[sS]$", "") + ".o");
                assembler.assemble(source, includeDirs, object);
                objects.add(object);
            }
            linker.link(objects, linkerScript, output);
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException("building " + output, e);
        }
    }

    private static boolean upToDate(Path output, List<Path> sources, List<Path> includeDirs, Path script)
            throws IOException {
        if (!Files.exists(output)) {
            return false;
        }
        FileTime built = Files.getLastModifiedTime(output);
        List<Path> inputs = new ArrayList<>(sources);
        inputs.add(script);
        for (Path dir : includeDirs) {
            try (var files = Files.list(dir)) {
                files.forEach(inputs::add);
            }
        }
        for (Path input : inputs) {
            if (Files.getLastModifiedTime(input).compareTo(built) >= 0) {
                return false;
            }
        }
        return true;
    }
}
