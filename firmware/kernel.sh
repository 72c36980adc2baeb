#!/usr/bin/env bash
# firmware/kernel.sh: build the llmboot LinuxBoot kernel, a bzImage with the initramfs embedded.
#
# Usage:    firmware/kernel.sh [--initramfs FILE] [--out FILE] [--fragment FILE] [--build-dir DIR]
#                              [--config-only] [--print-build-dir]
# Takes:    --initramfs  uncompressed newc cpio (default out/initramfs.cpio); the kernel xz-compresses it
#           --out        where the bzImage goes (default out/bzImage)
#           --fragment   Kconfig fragment applied on tinyconfig (default firmware/linux/llmboot.config)
#           --build-dir  build folder (default $LLMBOOT_CACHE/linux-build-<hash of fragment + source>)
#           --config-only  configure and verify the .config, build nothing
#           --print-build-dir  print the build folder's path and exit
# Needs:    Debian linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz; override: LLMBOOT_LINUX_TARBALL),
#           gcc make bison flex bc libelf-dev (`./build.sh deps`)
# Produces: --out: an x86_64 bzImage that is also an EFI-stub PE32+ application (ROM payload, -kernel,
#           coreboot payload); the build log is <build dir>/build.log
# Time:     the first build compiles the kernel: ~9 minutes on 2 idle cores. The build folder is cached
#           outside the clone ($LLMBOOT_CACHE, default ~/.cache/llmboot), keyed by the fragment's hash,
#           so a later build with a new initramfs only recompresses and relinks (15-45 s).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${LLMBOOT_CACHE:-$HOME/.cache/llmboot}
tarball=${LLMBOOT_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
jobs=${LLMBOOT_JOBS:-$(nproc)}
initramfs=$repo/out/initramfs.cpio
out=$repo/out/bzImage
fragment=$repo/firmware/linux/llmboot.config
build=
config_only=false
print_build_dir=false
# Bump when the way the build folder is configured changes (not the fragment: it is hashed).
recipe=1

step() { printf 'kernel: %s\n' "$*"; }
die() { printf 'kernel: error: %s\n' "$*" >&2; exit 1; }
kib() { echo $((($(stat -c %s "$1") + 1023) / 1024)); }

while [ $# -gt 0 ]; do
	case $1 in
	--initramfs) initramfs=$(realpath -m -- "${2:?--initramfs needs a file}"); shift 2 ;;
	--out) out=$(realpath -m -- "${2:?--out needs a file}"); shift 2 ;;
	--fragment) fragment=$(realpath -m -- "${2:?--fragment needs a file}"); shift 2 ;;
	--build-dir) build=$(realpath -m -- "${2:?--build-dir needs a folder}"); shift 2 ;;
	--config-only) config_only=true; shift ;;
	--print-build-dir) print_build_dir=true; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument $1 (try --help)" ;;
	esac
done

# --- prerequisites ---
[ -f "$tarball" ] || die "Linux source $tarball is missing: run 'sudo apt-get install linux-source-6.1' or './build.sh deps'"
for tool in make gcc bison flex bc xz perl; do
	command -v "$tool" >/dev/null || die "$tool is missing: run './build.sh deps' (build-essential bc bison flex xz-utils)"
done
[ -f /usr/include/gelf.h ] || die "libelf headers are missing (objtool needs them): run 'sudo apt-get install libelf-dev' or './build.sh deps'"
[ -f "$fragment" ] || die "config fragment $fragment is missing"
if ! $config_only && ! $print_build_dir; then
	[ -f "$initramfs" ] || die "initramfs $initramfs is missing: build it first (./build.sh initramfs) or pass --initramfs"
	# The kernel compresses INITRAMFS_SOURCE itself; a compressed file would be compressed twice and not unpack.
	[ "$(head -c 6 "$initramfs" | tr -d '\0')" = 070701 ] || die "$initramfs is not an uncompressed newc cpio archive (magic 070701)"
fi

# --- build folder, keyed by what decides its .config ---
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c '%s-%Y' "$tarball")
key=$( { cat "$fragment"; echo "source=$src_version recipe=$recipe"; } | sha256sum | cut -c1-12)
build=${build:-$cache/linux-build-$key}
if $print_build_dir; then
	echo "$build"
	exit 0
fi

# --- source tree, extracted once ---
src=$cache/linux-src-6.1
mkdir -p "$cache"
exec 8>"$cache/linux-src.lock"
flock 8
if [ "$(cat "$src/.llmboot-source-version" 2>/dev/null)" != "$src_version" ]; then
	step "extracting $tarball into $src (about 30 s)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	echo "$src_version" >"$src.tmp/.llmboot-source-version"
	mv "$src.tmp" "$src"
fi
flock -u 8
kernel_version=$(make -s -C "$src" kernelversion)
step "Linux $kernel_version source (Debian linux-source-6.1 $src_version) in $src"

mkdir -p "$build"
exec 9>"$build/.lock"
if ! flock -n 9; then
	step "waiting for another kernel build in $build"
	flock 9
fi
kmake() { make -C "$src" O="$build" ARCH=x86_64 "$@"; }

# Fragment lines that must appear verbatim in the final .config ("is not set" may also be absent).
verify_config() {
	local line name missing=()
	while IFS= read -r line; do
		case $line in
		'# CONFIG_'*' is not set')
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$build/.config"; then missing+=("$line (got: $(grep "^$name=" "$build/.config"))"); fi
			;;
		CONFIG_*)
			if ! grep -qxF -- "$line" "$build/.config"; then
				name=${line%%=*}
				missing+=("$line (got: $(grep -E "^(# )?$name[= ]" "$build/.config" || echo 'absent: dependencies missing or no such option'))")
			fi
			;;
		esac
	done <"$1"
	if [ ${#missing[@]} -gt 0 ]; then
		printf 'kernel: error: option not in the final .config as requested: %s\n' "${missing[@]}" >&2
		die "${#missing[@]} option(s) of $fragment were dropped by Kconfig; fix their dependencies in the fragment"
	fi
}

if [ "$(cat "$build/.llmboot-configured" 2>/dev/null)" != "$key" ]; then
	step "configuring: tinyconfig + $(basename "$fragment") in $build"
	rm -f "$build/.config"
	kmake -s tinyconfig >"$build/config.log" 2>&1 || { tail -20 "$build/config.log" >&2; die "make tinyconfig failed (log: $build/config.log)"; }
	merged=$build/llmboot-fragment.config
	{ cat "$fragment"; echo "CONFIG_INITRAMFS_SOURCE=\"$build/initramfs.cpio\""; } >"$merged"
	# -n: allnoconfig semantics, so options neither in tinyconfig nor in the fragment stay off
	# (olddefconfig would switch on the defaults of everything the fragment makes visible).
	(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -n -O "$build" "$build/.config" "$merged") \
		>>"$build/config.log" 2>&1 || { tail -20 "$build/config.log" >&2; die "merge_config.sh failed (log: $build/config.log)"; }
	verify_config "$merged"
	echo "$key" >"$build/.llmboot-configured"
else
	verify_config "$fragment"
fi
step "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$fragment") options of $(basename "$fragment") are in $build/.config"
$config_only && exit 0

# Copied only when it changed, so an unchanged initramfs does not even relink.
if ! cmp -s "$initramfs" "$build/initramfs.cpio"; then
	cp "$initramfs" "$build/initramfs.cpio"
fi

# --- build, make's output trimmed to one line per 100 objects ---
if [ -f "$build/vmlinux" ]; then
	step "building bzImage with $(basename "$initramfs") ($(kib "$initramfs") KiB): compiled objects are cached, recompressing the initramfs and relinking only (15-45 s)"
else
	step "building bzImage: a full kernel build takes ~9 minutes on 2 cores ($jobs jobs here); progress every 100 objects"
fi
start=$SECONDS
progress() {
	local n=0 line
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$build/build.log"
		case $line in
		'  '[A-Z]*)
			n=$((n + 1))
			if [ $((n % 100)) -eq 0 ]; then step "  $n objects, $((SECONDS - start)) s: ${line#"${line%%[! ]*}"}"; fi
			;;
		esac
	done
}
: >"$build/build.log"
if ! kmake -j"$jobs" bzImage 2>&1 | progress; then
	tail -30 "$build/build.log" >&2
	die "kernel build failed (full log: $build/build.log)"
fi

bz=$build/arch/x86/boot/bzImage
# An EFI-stub kernel is a PE image: "MZ" at 0, and the offset at 0x3c points to "PE\0\0".
pe_offset=$(od -An -tu4 -j60 -N4 "$bz" | tr -d ' ')
[ "$(head -c 2 "$bz")" = MZ ] && [ "$(od -An -c -j"$pe_offset" -N2 "$bz" | tr -d ' ')" = PE ] ||
	die "$bz is not a PE image: is CONFIG_EFI_STUB set?"
mkdir -p "$(dirname "$out")"
cp "$bz" "$out.tmp"
mv "$out.tmp" "$out"
step "wrote $out: $(kib "$out") KiB (Linux $kernel_version, EFI stub, initramfs $(kib "$initramfs") KiB uncompressed) in $((SECONDS - start)) s"
