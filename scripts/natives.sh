#!/usr/bin/env bash
# Obtains the native libraries kemu needs into .native/ (git-ignored), without
# root and without touching the system, unless they are already there or the
# user points at their own with UNICORN_LIB / CAPSTONE_LIB. A second run does
# nothing. Also checks for GNU binutils.
#
#   libunicorn 2.1.4: the Unicorn project's own build, from its Python wheel
#                     (pip; the wheel's sha256 is checked). No Python at run time.
#   libcapstone:      the system's if present, else Debian's libcapstone4 .deb
#                     (apt verifies it against the signed archive index).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NATIVE="$ROOT/.native"
UNICORN_VERSION=2.1.4
UNICORN_WHEEL=unicorn-2.1.4-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
UNICORN_WHEEL_SHA256=9d6e6dea140560de4ebd8446661f7ef84a357d428c14a3ef09dacd306ec8c239

say() { echo "kemu: $*" >&2; }
die() { say "$*"; exit 1; }

check_binutils() {
    local tool
    for tool in as ld objcopy readelf; do
        command -v "$tool" >/dev/null ||
            die "GNU binutils' '$tool' is missing; install binutils (apt-get install binutils)."
    done
}

fetch_unicorn() {
    local dest="$NATIVE/unicorn"
    if [[ -n "${UNICORN_LIB:-}" ]]; then
        [[ -f "$UNICORN_LIB" ]] || die "UNICORN_LIB=$UNICORN_LIB does not exist."
        return
    fi
    [[ -f "$dest/lib/libunicorn.so.2" && "$(cat "$dest/VERSION" 2>/dev/null)" == "$UNICORN_VERSION" ]] && return
    say "fetching libunicorn $UNICORN_VERSION (the Unicorn project's build, from its Python wheel)"
    local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
    local pip=(python3 -m pip)
    "${pip[@]}" --version >/dev/null 2>&1 ||
        die "python3 with pip is needed once, to download the libunicorn $UNICORN_VERSION wheel.
  Install it (apt-get install python3-pip), or build Unicorn >= 2.1 yourself and set UNICORN_LIB=/path/to/libunicorn.so.2."
    "${pip[@]}" download --quiet --retries 1 --no-deps --only-binary=:all: "unicorn==$UNICORN_VERSION" -d "$tmp" ||
        die "pip could not download unicorn==$UNICORN_VERSION. Set UNICORN_LIB=/path/to/libunicorn.so.2 (Unicorn >= 2.1)."
    local wheel="$tmp/$UNICORN_WHEEL"
    [[ -f "$wheel" ]] || die "pip did not return $UNICORN_WHEEL (got: $(ls "$tmp"))."
    echo "$UNICORN_WHEEL_SHA256  $wheel" | sha256sum --check --quiet ||
        die "sha256 of $UNICORN_WHEEL does not match $UNICORN_WHEEL_SHA256; refusing to use it."
    python3 -m zipfile -e "$wheel" "$tmp/x"
    rm -rf "$dest"; mkdir -p "$dest/lib" "$dest/include"
    cp "$tmp/x/unicorn/lib/libunicorn.so.2" "$dest/lib/"
    cp -r "$tmp/x/unicorn/include/unicorn" "$dest/include/"
    echo "$UNICORN_VERSION" > "$dest/VERSION"
}

system_capstone() { ldconfig -p 2>/dev/null | grep -Eq 'libcapstone\.so\.(4|5)( |$)'; }

fetch_capstone() {
    local dest="$NATIVE/capstone"
    if [[ -n "${CAPSTONE_LIB:-}" ]]; then
        [[ -f "$CAPSTONE_LIB" ]] || die "CAPSTONE_LIB=$CAPSTONE_LIB does not exist."
        return
    fi
    ls "$dest"/lib/libcapstone.so.* >/dev/null 2>&1 && return
    system_capstone && return
    say "fetching libcapstone4 from Debian's archive"
    local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
    # A private package list and cache: works without root, leaves the system alone.
    local apt=(apt-get -q -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache"
               -o Debug::NoLocking=1 -o Dir::State::status=/dev/null)
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
    (cd "$tmp" && { apt-get -q download libcapstone4 >/dev/null 2>&1 ||
        { "${apt[@]}" update >/dev/null && "${apt[@]}" download libcapstone4 >/dev/null; }; }) ||
        die "could not download libcapstone4 with apt-get. Install it (apt-get install libcapstone4) or set CAPSTONE_LIB=/path/to/libcapstone.so.4."
    dpkg-deb -x "$tmp"/libcapstone4_*.deb "$tmp/x"
    rm -rf "$dest"; mkdir -p "$dest/lib"
    cp -L "$tmp"/x/usr/lib/x86_64-linux-gnu/libcapstone.so.4 "$dest/lib/"
}

# kemu's own hypercall trampoline (native/kemu_hooks.c); optional: without gcc kemu uses a Java hook.
build_hooks() {
    local source="$ROOT/native/kemu_hooks.c" out="$NATIVE/hooks/libkemu_hooks.so"
    [[ -f "$out" && "$out" -nt "$source" ]] && return
    if ! command -v gcc >/dev/null; then
        say "gcc not found: hypercalls use the slower pure-Java hook (install gcc for the native trampoline)"
        return
    fi
    mkdir -p "$NATIVE/hooks"
    gcc -O2 -Wall -Wextra -shared -fPIC -o "$out.tmp" "$source" && mv "$out.tmp" "$out"
}

# The resident daemon's client (native/kemu_client.c, docs/startup.md); optional: without gcc there is no
# client, and ./kemu never uses a daemon (`kemu daemon start` says why).
build_client() {
    local source="$ROOT/native/kemu_client.c" out="$NATIVE/client/kemu-client"
    [[ -f "$out" && "$out" -nt "$source" ]] && return
    command -v gcc >/dev/null || return 0   # build_hooks has said that gcc is missing
    mkdir -p "$NATIVE/client"
    gcc -O2 -Wall -Wextra -o "$out.tmp" "$source" && mv "$out.tmp" "$out"
}

# Keystone 0.9.2 compiled to WebAssembly (the npm package @alexaltea/keystone-js), run in process by
# Chicory; see docs/keystone.md. Optional: without npm the Keystone backend is unavailable, GNU as stays.
fetch_keystone() {
    local dest="$NATIVE/keystone" version=0.9.2
    local sha256=d706d1b50d9f2444f6c5edbef05f343801e91fc79d62fbf86c6ff3510c063142
    [[ -f "$dest/keystone.wasm" && "$(cat "$dest/VERSION" 2>/dev/null)" == "$version" ]] && return
    if ! command -v npm >/dev/null; then
        say "npm not found: the Keystone assembler backend is unavailable (GNU as is used; install npm for it)"
        return
    fi
    say "fetching Keystone $version's WebAssembly build (npm package @alexaltea/keystone-js)"
    local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
    (cd "$tmp" && npm pack --silent "@alexaltea/keystone-js@$version" >/dev/null 2>&1) || {
        say "npm could not download @alexaltea/keystone-js@$version: the Keystone backend is unavailable"
        return
    }
    tar -xzf "$tmp"/alexaltea-keystone-js-"$version".tgz -C "$tmp" package/dist/keystone.wasm
    echo "$sha256  $tmp/package/dist/keystone.wasm" | sha256sum --check --quiet ||
        die "sha256 of keystone.wasm does not match $sha256; refusing to use it."
    mkdir -p "$dest"
    cp "$tmp/package/dist/keystone.wasm" "$dest/keystone.wasm"
    echo "$version" > "$dest/VERSION"
}

check_binutils
fetch_unicorn
fetch_capstone
build_hooks
build_client
fetch_keystone
