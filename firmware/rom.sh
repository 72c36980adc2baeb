#!/usr/bin/env bash
# firmware/rom.sh: build the LinuxBoot UEFI ROM: Debian's OVMF with its DXE stage cut down to the
# drivers the keep list names and the LinuxBoot kernel in the UEFI Shell's place, which OVMF's boot
# manager starts. See docs/booting.md ("ROM images") and docs/flashing.md.
#
# Usage:    firmware/rom.sh [--payload FILE] [--out FILE] [--size SIZE|auto] [--ovmf FILE] [--keep FILE]
# Takes:    --payload  EFI-stub bzImage (default out/bzImage)
#           --out      ROM to write (default out/llmboot.rom)
#           --size     ROM size (default 8M, which QEMU takes both as -bios and as pflash; 'auto' picks the
#                      smallest power of two that holds the payload; 16M works with -bios only)
#           --ovmf     input image (default /usr/share/OVMF/OVMF_CODE_4M.fd, Debian package ovmf 2022.11)
#           --keep     DXE keep list (default firmware/ovmf/ovmf-2022.11-dxe-keep.txt)
# Needs:    Go 1.26, xz (xz-utils), ovmf (`./build.sh deps`)
# Produces: --out, and out/romtool (the tool, built from firmware/romtool; `out/romtool info ROM` lists it)
# Time:     ~10-20 s: building romtool, then LZMA-compressing the kernel into the ROM (~1.5 MB/s)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
payload=$repo/out/bzImage
out=$repo/out/llmboot.rom
size=8M
ovmf=/usr/share/OVMF/OVMF_CODE_4M.fd
keep=$repo/firmware/ovmf/ovmf-2022.11-dxe-keep.txt

step() { printf 'rom: %s\n' "$*"; }
die() { printf 'rom: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--payload) payload=$(realpath -m -- "${2:?--payload needs a file}"); shift 2 ;;
	--out) out=$(realpath -m -- "${2:?--out needs a file}"); shift 2 ;;
	--size) size=${2:?--size needs a size}; shift 2 ;;
	--ovmf) ovmf=$(realpath -m -- "${2:?--ovmf needs a file}"); shift 2 ;;
	--keep) keep=$(realpath -m -- "${2:?--keep needs a file}"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument $1 (try --help)" ;;
	esac
done

[ -f "$ovmf" ] || die "$ovmf is missing: run 'sudo apt-get install ovmf' or './build.sh deps'"
[ -f "$keep" ] || die "keep list $keep is missing"
[ -f "$payload" ] || die "payload $payload is missing: build it with './build.sh kernel' or pass --payload"
command -v go >/dev/null || die "go is missing: run './build.sh deps'"
command -v xz >/dev/null || die "xz is missing (fiano compresses with it): run 'sudo apt-get install xz-utils'"
if [ "$ovmf" = /usr/share/OVMF/OVMF_CODE_4M.fd ]; then
	version=$(dpkg-query -W -f='${Version}' ovmf 2>/dev/null || echo unknown)
	case $version in
	2022.11*) step "OVMF $ovmf (Debian ovmf $version)" ;;
	*) step "warning: Debian ovmf $version, but the keep list was made for 2022.11: check that the ROM boots" ;;
	esac
fi

mkdir -p "$repo/out" "$(dirname "$out")"
step "building out/romtool"
(cd "$repo" && CGO_ENABLED=0 go build -o out/romtool ./firmware/romtool) || die "building romtool failed"

size_args=()
[ "$size" = auto ] || size_args=(--size "$size")
step "romtool build: payload $payload ($(stat -c %s "$payload") bytes), size $size"
start=$(date +%s)
if ! "$repo/out/romtool" build --ovmf "$ovmf" --keep "$keep" --payload "$payload" --out "$out" "${size_args[@]}" |
	sed 's/^/rom:   /'; then
	die "romtool build failed (see above; a larger kernel needs --size 16M or auto, which QEMU takes as -bios only)"
fi
step "done in $(($(date +%s) - start)) s: $out ($(stat -c %s "$out") bytes); boot it with" \
	"qemu-system-x86_64 -bios $out -accel tcg -cpu max -m 512M -nographic -no-reboot"
