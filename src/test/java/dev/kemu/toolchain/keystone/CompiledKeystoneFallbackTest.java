package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.wasm.WasmModule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Without usable compiled classes beside the module (missing, half written, damaged, not Chicory's
 * classes) Keystone runs on the interpreter, the reason names the jar and the command that rebuilds
 * it, and assembly still works.
 */
class CompiledKeystoneFallbackTest {
    private static WasmModule module;

    @TempDir
    Path dir;

    @BeforeAll
    static void module() {
        assumeTrue(KeystoneModule.available(), () -> "skipped: " + KeystoneModule.unavailableReason().orElseThrow());
        module = KeystoneModule.get();
    }

    private Path wasm() {
        return dir.resolve("keystone.wasm");   // only its folder matters: the jar is looked for beside it
    }

    private Path jar() throws KeystoneCompiledClasses.Unusable {
        return KeystoneCompiledClasses.jarFor(wasm(), module);
    }

    @Test
    void aMissingJar_fallsBackToTheInterpreter_andAssemblyStillWorks() throws Exception {
        KeystoneModule.Execution execution = KeystoneModule.choose(module, wasm(), "auto");
        assertFalse(execution.isCompiled());
        assertTrue(execution.description().contains(jar() + " are missing"), execution.description());
        assertTrue(execution.description().contains("scripts/mvn.sh compile"), execution.description());
        try (KeystoneEngine engine = new KeystoneEngine(execution)) {
            assertArrayEquals(new byte[]{(byte) 0x90, (byte) 0xc3}, engine.assemble("nop\nret", 0).output().bytes());
        }
    }

    @Test
    void aJarWithoutItsChecksum_isAnUnfinishedWrite() throws Exception {
        Files.write(jar(), new byte[]{1, 2, 3});
        String why = KeystoneModule.choose(module, wasm(), "auto").description();
        assertTrue(why.contains("unfinished write") && why.contains(jar().toString()), why);
    }

    @Test
    void aJarThatDoesNotMatchItsChecksum_isDamaged() throws Exception {
        Files.write(jar(), new byte[]{1, 2, 3});
        Files.writeString(KeystoneCompiledClasses.checksumFile(jar()), KeystoneCompiledClasses.sha256(new byte[]{1, 2}) + "\n");
        String why = KeystoneModule.choose(module, wasm(), "auto").description();
        assertTrue(why.contains("damaged") && why.contains("delete both"), why);
    }

    @Test
    void garbageWithAMatchingChecksum_isRefusedWhenLoaded() throws Exception {
        writeWithChecksum(jar(), HexFormat.of().parseHex("504b0304deadbeef00112233"));
        KeystoneModule.Execution execution = KeystoneModule.choose(module, wasm(), "auto");
        assertFalse(execution.isCompiled());
        assertTrue(execution.description().contains("holds no usable compiled Keystone"), execution.description());
    }

    @Test
    void aJarOfOtherClasses_isRefusedWhenLoaded_andAssemblyStillWorks() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes)) {
            out.putNextEntry(new JarEntry("wasm-module.properties"));
            out.write("mainClass=com.example.NotThere\n".getBytes());
            out.closeEntry();
        }
        writeWithChecksum(jar(), bytes.toByteArray());
        KeystoneModule.Execution execution = KeystoneModule.choose(module, wasm(), "auto");
        assertFalse(execution.isCompiled());
        assertTrue(execution.description().contains("holds no usable compiled Keystone"), execution.description());
        try (KeystoneEngine engine = new KeystoneEngine(execution)) {
            assertArrayEquals(new byte[]{(byte) 0xb8, 42, 0, 0, 0}, engine.assemble("mov eax, 42", 0).output().bytes());
        }
    }

    @Test
    void askingForCompiled_whenItIsMissing_isAnErrorNamingTheJar() throws Exception {
        var e = assertThrows(KeystoneUnavailableException.class, () -> KeystoneModule.choose(module, wasm(), "compiled"));
        assertTrue(e.getMessage().contains(jar().toString()), e.getMessage());
    }

    @Test
    void anUnknownEngine_isAnErrorListingTheChoices() {
        var e = assertThrows(KeystoneUnavailableException.class, () -> KeystoneModule.choose(module, wasm(), "jit"));
        assertEquals("-Dkemu.keystone.engine=jit is not an engine; use compiled, interpreter or auto (compiled when present)",
                e.getMessage());
    }

    @Test
    void theInterpreterWhenAskedFor_evenWithCompiledClassesPresent() {
        KeystoneModule.Execution execution = KeystoneModule.choose(module, KeystoneModule.location(), "interpreter");
        assertFalse(execution.isCompiled());
        assertTrue(execution.description().contains("-Dkemu.keystone.engine=interpreter"), execution.description());
    }

    @Test
    void theBuildsJar_isFoundAndLoaded() {
        KeystoneModule.Execution execution = KeystoneModule.choose(module, KeystoneModule.location(), "auto");
        assumeTrue(execution.isCompiled(), () -> "skipped: the build wrote no compiled classes: " + execution.description());
        assertTrue(execution.description().startsWith("compiled to JVM classes ("), execution.description());
    }

    private static void writeWithChecksum(Path jar, byte[] bytes) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar)) {
            out.write(bytes);
        }
        Files.writeString(KeystoneCompiledClasses.checksumFile(jar), KeystoneCompiledClasses.sha256(bytes) + "\n");
    }
}
