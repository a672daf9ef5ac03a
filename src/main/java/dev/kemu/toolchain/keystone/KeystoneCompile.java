package dev.kemu.toolchain.keystone;

import com.dylibso.chicory.wasm.Parser;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The build step that compiles Keystone's module to JVM classes once (run by Maven's compile phase,
 * see pom.xml): nothing to do when the module is absent or its verified jar is already there, so a
 * second build pays only this JVM's start. A failure is reported and leaves the interpreter in use;
 * it does not fail the build.
 */
public final class KeystoneCompile {
    private KeystoneCompile() {
    }

    public static void main(String[] args) {
        Path wasm = KeystoneModule.location();
        if (!Files.isRegularFile(wasm)) {
            return;   // natives.sh could not fetch it; KeystoneModule says so where Keystone is asked for
        }
        Path jar = KeystoneCompiledClasses.jarFor(wasm, KeystoneCompiledClasses.sha256(wasm));
        try {
            KeystoneCompiledClasses.read(jar);
            return;
        } catch (KeystoneCompiledClasses.Unusable missingOrDamaged) {
            // compile below
        }
        System.err.println("kemu: compiling Keystone's WebAssembly module to JVM classes, once per module"
                + " (about a minute) -> " + jar);
        long started = System.nanoTime();
        try {
            KeystoneCompiledClasses.write(Parser.parse(wasm), jar);
            System.err.printf("kemu: compiled Keystone in %.0f s (%d KiB of classes)%n",
                    (System.nanoTime() - started) / 1e9, Files.size(jar) / 1024);
        } catch (Exception | OutOfMemoryError e) {
            System.err.println("kemu: could not compile Keystone's module (" + e + "); Keystone stays on"
                    + " Chicory's interpreter, about 50x slower per snippet");
        }
    }
}
