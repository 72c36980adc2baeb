#!/usr/bin/env bash
# firmware/coreboot.sh: make the LinuxBoot kernel a coreboot image's payload (fallback/payload).
# coreboot itself is built elsewhere (its build downloads a toolchain): see docs/flashing.md for the
# config; this adds or replaces the payload of a ROM coreboot built, with Debian's cbfstool.
#
# Usage:    firmware/coreboot.sh --rom FILE [--payload FILE] [--cmdline "ARGS"] [--out FILE]
# Takes:    --rom      coreboot image; its CBFS (region COREBOOT) gets the payload; an existing
#                      fallback/payload (SeaBIOS, say) is replaced
#           --payload  bzImage (default out/bzImage); its initramfs is built in, so no initrd
#           --cmdline  kernel command line stored with the payload (default none: the kernel's built-in
#                      console=ttyS0,115200 applies; given ones are added after it)
#           --out      write the result here and leave --rom as it is (default: change --rom in place)
# Needs:    cbfstool (Debian coreboot-utils)
# Produces: the ROM with fallback/payload, uncompressed (a bzImage is compressed already; Debian's
#           cbfstool 4.15 given -c lzma stores a broken 416-byte payload and exits 0); then prints
#           `cbfstool print`. Nothing is written when it fails.
# Time:     ~1 s
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rom=
payload=$repo/out/bzImage
cmdline=
out=
name=fallback/payload

step() { printf 'coreboot: %s\n' "$*"; }
die() { printf 'coreboot: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--rom) rom=$(realpath -m -- "${2:?--rom needs a file}"); shift 2 ;;
	--payload) payload=$(realpath -m -- "${2:?--payload needs a file}"); shift 2 ;;
	--cmdline) cmdline=${2?--cmdline needs a string}; shift 2 ;;
	--out) out=$(realpath -m -- "${2:?--out needs a file}"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument $1 (try --help)" ;;
	esac
done

[ -n "$rom" ] || die "--rom is required: a coreboot image built for your board (see docs/flashing.md)"
[ -f "$rom" ] || die "ROM $rom is missing"
[ -f "$payload" ] || die "payload $payload is missing: build it with './build.sh kernel' or pass --payload"
command -v cbfstool >/dev/null || die "cbfstool is missing: run 'sudo apt-get install coreboot-utils' or './build.sh deps'"
# A bzImage has the boot protocol's "HdrS" at 0x202.
[ "$(od -An -c -j 514 -N 4 -- "$payload" | tr -d ' ')" = HdrS ] || die "$payload is not a bzImage (no HdrS header)"
out=${out:-$rom}

tmp=$(mktemp "${TMPDIR:-/tmp}/coreboot-rom.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cp -- "$rom" "$tmp"
listing=$(cbfstool "$tmp" print 2>&1) || die "$rom is not a coreboot image cbfstool can read: $(printf '%s' "$listing" | tail -1)"
rom_size=$(stat -c %s "$rom")
payload_size=$(stat -c %s "$payload")
step "ROM $rom: $rom_size bytes; payload $payload: $payload_size bytes"

# `cbfstool print -k` is tab-separated: name, offset, type, metadata size, data size, total size
# (sizes in hex).
# entry_size: data size of the named CBFS entry, or nothing.
entry_size() {
	local hex
	hex=$(cbfstool "$1" print -k | awk -F'\t' -v n="$2" '$1 == n { print $5; exit }')
	[ -z "$hex" ] || echo $((hex))
}
# largest_free: the largest empty CBFS entry, which is what one file can use.
largest_free() {
	local hex max=0
	for hex in $(cbfstool "$1" print -k | awk -F'\t' '$1 == "(empty)" { print $5 }'); do
		[ $((hex)) -le "$max" ] || max=$((hex))
	done
	echo "$max"
}

old=$(entry_size "$tmp" "$name")
if [ -n "$old" ]; then
	step "replacing the existing $name ($old bytes)"
	cbfstool "$tmp" remove -n "$name" || die "cbfstool could not remove the old $name"
fi
args=(add-payload -f "$payload" -n "$name" -c none)
[ -z "$cmdline" ] || args+=(-C "$cmdline")
step "cbfstool add-payload -n $name -c none${cmdline:+ -C \"$cmdline\"}"
if ! err=$(cbfstool "$tmp" "${args[@]}" 2>&1); then
	free=$(largest_free "$tmp")
	if [ "$free" -lt "$payload_size" ]; then
		die "no room for $payload ($payload_size bytes) in $rom: its CBFS has at most $free bytes free in one piece (ROM $rom_size bytes); build coreboot for a larger flash chip or with a smaller kernel"
	fi
	die "cbfstool add-payload failed: $(printf '%s' "$err" | grep -m1 '^E:' || printf '%s' "$err" | tail -1)"
fi
# A bzImage payload is the kernel plus a few hundred bytes of headers; anything much smaller means
# cbfstool stored something else (see -c lzma above).
new=$(entry_size "$tmp" "$name")
[ -n "$new" ] && [ "$new" -ge $((payload_size * 9 / 10)) ] ||
	die "cbfstool stored $name with ${new:-no} bytes for a $payload_size-byte bzImage; not writing $out"
mv -- "$tmp" "$out"
trap - EXIT
step "wrote $out: $name is $new bytes, $(largest_free "$out") bytes free"
cbfstool "$out" print | sed 's/^/coreboot:   /'
