#!/bin/bash
# Firmware build set-up, run by `make setup` (mk/firmware.mk). Idempotent: quick when done.
#
#   tools/fwsetup.sh toolchain          Debian packages for the builds and the fuzz tier
#   tools/fwsetup.sh sources DIR MPV MBV
#       MicroPython and mbedTLS source from Debian trixie (deb-src), pinned to the
#       package versions MPV / MBV, downloaded into DIR/dl only when missing, unpacked
#       into DIR/micropython-<upstream>/ with mbedTLS in its lib/mbedtls.
set -euo pipefail

APT_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang libclang-rt-14-dev"
SRC_LIST=/etc/apt/sources.list.d/flexcharge-trixie-src.sources
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

say() { echo "fwsetup: $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        say "needs root (or sudo) for: $*"
        exit 1
    fi
}

# The URIs of the machine's own Debian entry (the first deb822 stanza that is not the
# security archive), never a hard-coded host.
debian_uris() {
    awk 'BEGIN { RS = ""; FS = "\n" }
         { u = ""; s = ""
           for (i = 1; i <= NF; i++) {
               if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u) }
               if ($i ~ /^Suites:/) s = $i
           }
           if (u != "" && s !~ /-security/ && !done) { print u; done = 1 } }' "$DEBIAN_SOURCES"
}

apt_updated=""
apt_update() {
    if [ -z "$apt_updated" ]; then
        say "apt-get update"
        as_root apt-get update -qq
        apt_updated=1
    fi
}

ensure_deb_src() {
    [ -f "$DEBIAN_SOURCES" ] || { say "no $DEBIAN_SOURCES: cannot tell this machine's Debian archive"; exit 1; }
    local uris
    uris=$(debian_uris)
    [ -n "$uris" ] || { say "no URIs: in $DEBIAN_SOURCES"; exit 1; }
    local want
    want=$(printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uris")
    if [ ! -f "$SRC_LIST" ] || [ "$(cat "$SRC_LIST")" != "$want" ]; then
        say "adding the Debian trixie source entry (deb-src only, $uris) as $SRC_LIST"
        printf '%s\n' "$want" | as_root tee "$SRC_LIST" >/dev/null
        apt_update
    fi
}

toolchain() {
    local missing=""
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing Debian packages:$missing"
    say "  (gcc-arm-none-eabi, libnewlib-arm-none-eabi: Cortex-M image; qemu-system-arm: runs it;"
    say "   clang, libclang-rt-14-dev: libFuzzer + sanitizers for the C module's fuzz tier)"
    apt_update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# fetch NAME VERSION: download the pinned source package into $DL when its .dsc is absent.
fetch() {
    local name=$1 ver=$2
    local dsc="$DL/${name}_${ver#*:}.dsc"
    [ -f "$dsc" ] && return 0
    ensure_deb_src
    say "downloading the Debian source of $name $ver (trixie) into $DL"
    # The lists may predate the entry's last update: refresh once and try again.
    (cd "$DL" && apt-get source --download-only -qq "$name=$ver" 2>/dev/null) || {
        apt_update
        (cd "$DL" && apt-get source --download-only -qq "$name=$ver" 2>/dev/null)
    } || {
        say "cannot fetch $name=$ver from trixie; versions there now:"
        apt-cache showsrc "$name" | grep '^Version' >&2 || true
        say "set the pinned version in mk/firmware.mk if trixie moved on"
        exit 1
    }
    [ -f "$dsc" ] || { say "apt-get source gave no $dsc"; exit 1; }
}

sources() {
    local dir=$1 mpv=$2 mbv=$3
    local up=${mpv%-*}; up=${up%+ds}    # 1.25.0+ds-1 -> 1.25.0
    local mbup=${mbv%-*}                # 3.6.6-0.1~deb13u1 -> 3.6.6
    local tree="$dir/micropython-$up"
    DL="$dir/dl"
    mkdir -p "$DL"
    if [ "$(cat "$tree/.flexcharge-unpacked" 2>/dev/null)" != "$mpv $mbv" ]; then
        fetch micropython "$mpv"
        fetch mbedtls "$mbv"
        say "unpacking MicroPython $up and mbedTLS $mbup into $tree"
        rm -rf "$tree" "$dir/mbedtls-$mbup"
        tar -C "$dir" -xf "$DL"/micropython_"$up"*.orig.tar.*
        tar -C "$dir" -xf "$DL"/mbedtls_"$mbup".orig.tar.*
        rm -rf "$tree/lib/mbedtls"
        mv "$dir/mbedtls-$mbup" "$tree/lib/mbedtls"
        # No micropython-lib: the build only needs the folder to exist with its README.
        mkdir -p "$dir/mpy-lib-empty"
        : > "$dir/mpy-lib-empty/README.md"
        echo "$mpv $mbv" > "$tree/.flexcharge-unpacked"
    fi
}

case "${1:-}" in
    toolchain) toolchain ;;
    sources) sources "$2" "$3" "$4" ;;
    *) echo "usage: $0 toolchain | sources DIR MICROPYTHON_VERSION MBEDTLS_VERSION" >&2; exit 2 ;;
esac
