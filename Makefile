# The two commands a new user needs: `make run` and `make test`.
# Both fetch what is missing (JDK check, native libraries, binutils check) first.
.PHONY: run test test-memdebug bench build natives clean fuzz install

# kemu's exit status follows QEMU's isa-debug-exit: the guest's exit-port value v gives (v << 1) | 1.
# kernel-asm/kmain.S writes 0 when its demo succeeded (1 when it failed), so success here is status 1;
# 0 (halted after kmain without writing the port) is accepted too. Anything else fails `make run`.
run: natives
	@./kemu boot; status=$$?; if [ $$status -ne 1 ] && [ $$status -ne 0 ]; then \
		echo "make run: ./kemu boot exited with status $$status (see README.md, Exit status)" >&2; exit $$status; fi

test: natives
	scripts/mvn.sh test

# The whole suite with every memory debug mode on (SLUB debug FZPU and KASAN) in every machine whose test did not
# choose its own modes (docs/kasan.md): fails when any of them found a memory error, and lists them.
MEMDEBUG_FINDINGS = $(CURDIR)/target/memdebug-findings.txt
test-memdebug: natives
	@rm -f $(MEMDEBUG_FINDINGS); status=0; \
	scripts/mvn.sh test -Dkemu.memoryDebug=all -Dkemu.memoryDebug.findings=$(MEMDEBUG_FINDINGS) \
		-Dkemu.memoryDebug.expected=$(CURDIR)/src/test/resources/memdebug-expected.txt || status=$$?; \
	if [ -s $(MEMDEBUG_FINDINGS) ]; then cat $(MEMDEBUG_FINDINGS); \
		echo "make test-memdebug: memory errors found with every mode on (above; $(MEMDEBUG_FINDINGS))" >&2; exit 1; fi; \
	exit $$status

# The long fuzzing campaign (minutes; see scripts/fuzz.sh): make fuzz [SEED=n] [PROGRAMS=n] [HYPERCALLS=n]
# [PARALLEL=n] [MODEL_TRIES=n] [RAM=MiB]. Prints the seed, and the shrunk reproduction of a failure.
fuzz: natives
	SEED=$(SEED) PROGRAMS=$(PROGRAMS) HYPERCALLS=$(HYPERCALLS) PARALLEL=$(PARALLEL) MODEL_TRIES=$(MODEL_TRIES) RAM=$(RAM) scripts/fuzz.sh

# kemu as one Maven dependency (dev.kemu:kemu) in the local repository, for tests in your own project
# (README.md, "Testing your own kernel"). The jar carries the kernel sources and natives.sh.
install:
	scripts/mvn.sh -q install -DskipTests

# BENCH_QUICK=1: fewer, shorter rounds, a smoke run of the whole pipeline.
bench: natives
	BENCH_QUICK=$(BENCH_QUICK) bench/run.sh

build: natives
	scripts/mvn.sh -q compile

natives:
	scripts/natives.sh

clean:
	rm -rf target
