// The kemu launcher's class path for the AOT cache: `java -cp ASM_JAR scripts/UpgradeOldClassFiles.java OUT_DIR CP`
// prints CP with every jar that holds class files older than Java 6 (major version < 50) replaced by a copy in
// OUT_DIR whose classes are the same code as Java 8 class files, with the stack map frames the modern verifier
// needs (computed by ASM). The JVM's AOT cache neither stores nor links classes that old, so each run loaded and
// verified them again (picocli 4.7 is built for Java 5: about 180 classes at every start; docs/startup.md).
// Jars without such classes stay as they are. Nothing is rewritten but the version and the frames.

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

public class UpgradeOldClassFiles {
    private static final int OLDEST_ARCHIVED = 50;

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: UpgradeOldClassFiles OUT_DIR CLASS_PATH");
            System.exit(2);
        }
        Path out = Files.createDirectories(Path.of(args[0]));
        List<String> path = new ArrayList<>();
        for (String entry : args[1].split(":")) {
            Path jar = Path.of(entry);
            path.add(entry.endsWith(".jar") && holdsOldClasses(jar) ? upgrade(jar, out).toString() : entry);
        }
        System.out.println(String.join(":", path));
    }

    private static boolean holdsOldClasses(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (isClass(entry)) {
                    try (InputStream in = zip.getInputStream(entry)) {
                        return majorVersion(in.readNBytes(8)) < OLDEST_ARCHIVED;
                    }
                }
            }
        }
        return false;
    }

    private static Path upgrade(Path jar, Path outDir) throws IOException {
        Path target = outDir.resolve(jar.getFileName());
        Path partial = Files.createTempFile(outDir, jar.getFileName().toString(), ".partial");
        // Frames need the common superclass of two types: ask a loader over the jar itself (and the JDK).
        try (ZipFile zip = new ZipFile(jar.toFile());
             URLClassLoader types = new URLClassLoader(new URL[]{jar.toUri().toURL()}, null);
             ZipOutputStream copy = new ZipOutputStream(Files.newOutputStream(partial))) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                byte[] bytes;
                try (InputStream in = zip.getInputStream(entry)) {
                    bytes = in.readAllBytes();
                }
                if (isClass(entry) && majorVersion(bytes) < OLDEST_ARCHIVED) {
                    bytes = asJava8(bytes, types);
                }
                copy.putNextEntry(new ZipEntry(entry.getName()));
                copy.write(bytes);
                copy.closeEntry();
            }
        }
        Files.move(partial, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static byte[] asJava8(byte[] classFile, ClassLoader types) {
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return types;
            }
        };
        ClassVisitor version = new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public void visit(int v, int access, String name, String signature, String superName, String[] interfaces) {
                super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
            }
        };
        // jsr/ret, which Java 8 class files may not hold, make COMPUTE_FRAMES fail: the copy is then not made.
        new ClassReader(classFile).accept(version, ClassReader.SKIP_FRAMES);
        return writer.toByteArray();
    }

    private static boolean isClass(ZipEntry entry) {
        // META-INF/versions/N/ holds newer classes (module-info) for newer JDKs; they are left alone.
        return entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/");
    }

    private static int majorVersion(byte[] header) {
        return header.length < 8 ? Integer.MAX_VALUE : (header[6] & 0xff) << 8 | (header[7] & 0xff);
    }
}
