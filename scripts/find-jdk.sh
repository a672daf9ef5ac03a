#!/usr/bin/env bash
# Prints the home of a JDK >= 22 (the FFM API is final there), or explains how
# to get one and fails. JAVA_HOME wins when it points at a suitable JDK.
set -euo pipefail

feature_version() {  # $1 = JDK home; prints its feature version or nothing
    local release="$1/release"
    [[ -x "$1/bin/java" && -x "$1/bin/javac" && -f "$release" ]] || return 0
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release"
}

suitable() { local v; v=$(feature_version "$1"); [[ -n "$v" && "$v" -ge 22 ]]; }

if [[ -n "${JAVA_HOME:-}" ]]; then
    if suitable "$JAVA_HOME"; then echo "$JAVA_HOME"; exit 0; fi
    echo "kemu: JAVA_HOME=$JAVA_HOME is not a JDK >= 22; looking elsewhere" >&2
fi
for home in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [[ -d "$home" ]] || continue
    if suitable "$home"; then echo "$home"; exit 0; fi
done
if command -v javac >/dev/null; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    if suitable "$home"; then echo "$home"; exit 0; fi
fi
cat >&2 <<'MSG'
kemu: no JDK >= 22 found (kemu uses the FFM API, final since JDK 22).
  Install one, e.g. Temurin 25 (apt-get install temurin-25-jdk from Adoptium's
  repository) or Debian's openjdk-25-jdk where available, then either put it under
  /usr/lib/jvm or set JAVA_HOME to it.
MSG
exit 1
