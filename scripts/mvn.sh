#!/usr/bin/env bash
# Runs Maven on a JDK >= 22 (found by find-jdk.sh), after checking Maven exists.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAVA_HOME=$("$ROOT/scripts/find-jdk.sh")
export JAVA_HOME
command -v mvn >/dev/null || { echo "kemu: Apache Maven is missing; install it (apt-get install maven)." >&2; exit 1; }
# Maven's own guava warns about sun.misc.Unsafe on new JDKs; it is harmless noise.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
cd "$ROOT" && exec mvn -B -Dstyle.color=never "$@"
