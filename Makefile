# The two commands a new user needs: `make run` and `make test`.
# Both fetch what is missing (JDK check, native libraries, binutils check) first.
.PHONY: run test bench build natives clean

run: natives
	./kemu boot

test: natives
	scripts/mvn.sh test

bench: natives
	bench/run.sh

build: natives
	scripts/mvn.sh -q compile

natives:
	scripts/natives.sh

clean:
	rm -rf target
