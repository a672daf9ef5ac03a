package dev.kemu.testing;

import dev.kemu.boot.KernelSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kemu as a user's project sees it: a copy of kemu's sources is installed with {@code mvn -o install
 * -DskipTests} (a copy, so that the build cannot rewrite the classes this test runs from), then the
 * separate project under {@code src/test/consumer-project/} builds its kernel with make and runs its own
 * tests with {@code mvn -o test} against that artifact, with no {@code kemu.home}: kemu unpacks its files
 * and runs its natives.sh in a fresh cache folder. The native libraries are copied in beforehand (this
 * machine cannot download them), so natives.sh only checks them and builds the hook library.
 */
class ConsumerProjectTest {
    private static final long STEP_MINUTES = 5;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ConsumerProjectTest.class);

    @Test
    void consumerProject_bootsItsOwnKernelAgainstTheInstalledArtifact(@TempDir Path work) throws Exception {
        assumeTrue(runs("mvn", "-v"), "Maven (mvn) is not installed: skipping the separate-project test");
        assumeTrue(runs("make", "--version"), "make is not installed: skipping the separate-project test");
        Path home = KernelSources.home();
        Path kemu = work.resolve("kemu");
        for (String part : List.of("pom.xml", "src/main", "kernel-asm", "linker", "scripts/natives.sh", "native/kemu_hooks.c")) {
            copyTree(home.resolve(part), kemu.resolve(part));
        }
        // The classes this test runs from, with their times: the compiler finds them up to date (saves a minute).
        copyTree(home.resolve("target/classes"), kemu.resolve("target/classes"));
        Result install = run(kemu, Map.of(), "mvn", "-o", "-B", "-q", "install", "-DskipTests",
                "-Dmaven.compiler.useIncrementalCompilation=false"); // then up-to-date classes are not recompiled
        assertEquals(0, install.status(), "mvn install of kemu failed:\n" + install.output());

        Path consumer = work.resolve("consumer");
        copyTree(home.resolve("src/test/consumer-project"), consumer);
        Result kernel = run(consumer, Map.of(), "make");
        assertEquals(0, kernel.status(), "make of the consumer's kernel failed:\n" + kernel.output());
        Path cache = work.resolve("cache");
        for (String library : List.of(".native/unicorn", ".native/capstone")) {
            if (Files.isDirectory(home.resolve(library))) {
                copyTree(home.resolve(library), cache.resolve(library));
            }
        }
        Result test = run(consumer, Map.of("KEMU_CACHE", cache.toString()), "mvn", "-o", "-B", "test",
                "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath",
                "-Dmdep.outputFile=classpath.txt", "-Dmdep.includeScope=test");
        assertEquals(0, test.status(), "mvn test of the consumer project failed:\n" + test.output());
        assertTrue(test.output().contains("Tests run: 2, Failures: 0, Errors: 0, Skipped: 0"), test.output());

        String classpath = Files.readString(consumer.resolve("classpath.txt"));
        assertTrue(classpath.contains("kemu-"), classpath);
        assertFalse(classpath.contains("slf4j-simple"), "kemu forced a logging binding on the consumer: " + classpath);
        assertTrue(Files.isRegularFile(cache.resolve("kernel-asm/boot.S")), "kemu's kernel sources were not unpacked");
        assertTrue(Files.isRegularFile(cache.resolve("target/kernel/firmware.elf")), "the firmware was not built in the cache");
    }

    private record Result(int status, String output) {}

    private static Result run(Path dir, Map<String, String> environment, String... command)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile(dir.getParent(), "step", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("MAVEN_OPTS");
        builder.environment().putAll(environment);
        long started = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(STEP_MINUTES, TimeUnit.MINUTES)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            return new Result(-1, String.join(" ", command) + " did not finish in " + STEP_MINUTES + " minutes\n"
                    + Files.readString(log));
        }
        LOG.info("{} in {}: {} s", String.join(" ", command), dir.getFileName(), (System.nanoTime() - started) / 1_000_000_000);
        return new Result(process.exitValue(), Files.readString(log));
    }

    private static boolean runs(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(1, TimeUnit.MINUTES) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(from)) {
            walk.filter(Files::isRegularFile).forEach(files::add);
        }
        for (Path file : files) {
            Path target = to.resolve(from.relativize(file).toString());
            Files.createDirectories(target.getParent());
            Files.copy(file, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}
