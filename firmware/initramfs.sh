#!/usr/bin/env bash
# firmware/initramfs.sh: build the u-root initramfs of the llmboot firmware.
#
#   firmware/initramfs.sh [--kernel-modules KVER] [--xz] [--defaults KEYS] [--from BASE.cpio] OUT.cpio
#
# Takes: this module (u-root v0.16.0 and mkuimage pinned in go.mod, the u-root
#   commands listed in firmware/tools.go), uroot-cmds/llmboot and uroot-cmds/uinit,
#   the demo model testdata/models/gguf/stories260K.gguf; with --kernel-modules,
#   the modules of Debian's kernel KVER from /lib/modules/KVER (linux-image-amd64).
# Produces: OUT.cpio, an uncompressed newc cpio (the LinuxBoot kernel embeds it and
#   compresses it itself); with --xz also OUT.cpio.xz (for QEMU's -initrd). One
#   busybox binary /bbin/bb (gobusybox "bb" mode) with links for each command,
#   /init -> init, /bin/defaultsh -> gosh, /bbin/uinit (u-root's init runs it),
#   /models/stories260K.gguf, /etc/llmboot/defaults (KEYS: the boot settings that
#   apply unless the kernel command line sets them, in its syntax; a ROM boots with
#   an empty command line; default: the demo, see DEFAULTS below); with
#   --kernel-modules, lib/modules/KVER/ (the .ko
#   files for NVMe, e1000, virtio net/blk/pci/rng, ext4, vfat and their
#   dependencies, uncompressed, with a trimmed modules.dep) and
#   lib/modules-load.d/llmboot.conf, the order u-root's init loads them in.
#   --from BASE.cpio adds the modules to an initramfs this script built before
#   instead of compiling the commands again (how build.sh makes the Debian-kernel
#   variant from the LinuxBoot one).
# Runs: the commands build takes ~1-3 min on 2 cores (more while a kernel builds);
#   --from takes ~2 s; --xz adds ~10-20 s.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: firmware/initramfs.sh [--kernel-modules KVER] [--xz] [--defaults KEYS] [--from BASE.cpio] OUT.cpio" >&2
	exit 2
}
step() { printf 'initramfs: %s\n' "$*" >&2; }
die() {
	printf 'initramfs: error: %s\n' "$*" >&2
	exit 1
}

KVER=""
XZ=0
OUT=""
FROM=""
DEFAULTS_SET=0
# The demo: the first disk that starts with a GGUF (else the model in /models)
# tells a greedy story; the QEMU tests expect exactly these flags.
DEFAULTS="llmboot.model=auto llmboot.args=\"-p 'Once upon a time' -n 64 --temp 0\""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel-modules)
		[ $# -ge 2 ] || usage
		KVER=$2
		shift 2
		;;
	--xz)
		XZ=1
		shift
		;;
	--defaults)
		[ $# -ge 2 ] || usage
		DEFAULTS=$2
		DEFAULTS_SET=1
		shift 2
		;;
	--from)
		[ $# -ge 2 ] || usage
		FROM=$2
		shift 2
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		[ -z "$OUT" ] || usage
		OUT=$1
		shift
		;;
	esac
done
[ -n "$OUT" ] || usage
command -v go >/dev/null || die "go not found (./build.sh deps installs it)"
[ "$XZ" = 0 ] || command -v xz >/dev/null || die "xz not found (apt-get install xz-utils)"

MODEL=testdata/models/gguf/stories260K.gguf
[ -f "$MODEL" ] || die "$MODEL is missing"

# The u-root commands: a deliberately small set. Each must be imported by
# firmware/tools.go, or gobusybox fails with an obscure module error.
UROOT=github.com/u-root/u-root/cmds/core
COMMANDS=()
for c in init gosh ls cat cp rm mkdir mount umount dmesg ip dhclient wget poweroff shutdown \
	free ps insmod lsmod uname echo dd hexdump sync; do
	grep -q "\"$UROOT/$c\"" firmware/tools.go || die "$UROOT/$c is not imported by firmware/tools.go"
	COMMANDS+=("$UROOT/$c")
done
COMMANDS+=(./uroot-cmds/llmboot ./uroot-cmds/uinit)

# Kernel modules, in the order init loads them: the virtio bus and the
# entropy source first (DHCP needs random numbers), then disks, NICs and
# file systems. Their dependencies come from modules.dep.
MODULES=(virtio_pci virtio_rng nvme virtio_blk e1000 virtio_net crc32c_generic ext4 vfat nls_cp437 nls_ascii nls_utf8)

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
FILES=()
if [ -n "$FROM" ]; then
	[ -f "$FROM" ] || die "--from $FROM: no such file (build it first: firmware/initramfs.sh $FROM)"
	[ "$DEFAULTS_SET" = 0 ] || die "--defaults applies to a fresh build, not to --from $FROM"
	if [ "$FROM" -ef "$OUT" ]; then die "--from and OUT must differ"; fi
else
	FILES+=(-files "$MODEL:models/stories260K.gguf")
	mkdir -p "$STAGE/etc/llmboot"
	printf '%s\n' "$DEFAULTS" >"$STAGE/etc/llmboot/defaults"
	step "boot defaults: $DEFAULTS"
	FILES+=(-files "$STAGE/etc/llmboot:etc/llmboot")
fi

if [ -n "$KVER" ]; then
	SRC=/lib/modules/$KVER
	[ -f "$SRC/modules.dep" ] || die "no $SRC/modules.dep: install the kernel's modules (apt-get install linux-image-amd64)"
	step "kernel modules of $KVER: ${MODULES[*]}"
	DST=$STAGE/lib/modules/$KVER
	mkdir -p "$DST" "$STAGE/lib/modules-load.d"
	# name (dashes as underscores) -> "path: deps" line of modules.dep
	declare -A DEPLINE
	while IFS= read -r line; do
		path=${line%%:*}
		name=${path##*/}
		name=${name%%.ko*}
		DEPLINE[${name//-/_}]=$line
	done <"$SRC/modules.dep"
	declare -A COPIED
	: >"$DST/modules.dep"
	: >"$STAGE/lib/modules-load.d/llmboot.conf"
	for m in "${MODULES[@]}"; do
		key=${m//-/_}
		line=${DEPLINE[$key]:-}
		if [ -z "$line" ]; then
			if grep -qE "/${m//_/[-_]}\.ko" "$SRC/modules.builtin" 2>/dev/null; then
				step "  $m is built into the kernel"
				continue
			fi
			die "module $m not found in $SRC/modules.dep"
		fi
		echo "$m" >>"$STAGE/lib/modules-load.d/llmboot.conf"
		path=${line%%:*}
		deps=${line#*:}
		for f in $path $deps; do
			[ -z "${COPIED[$f]:-}" ] || continue
			COPIED[$f]=1
			ko=${f%.xz}
			ko=${ko%.zst}
			ko=${ko%.gz}
			mkdir -p "$DST/$(dirname "$ko")"
			# Uncompressed: the whole cpio is compressed once (better
			# ratio), and u-root's init loads plain .ko with finit_module.
			case "$f" in
			*.xz) xz -dc "$SRC/$f" >"$DST/$ko" ;;
			*.zst) zstd -qdc "$SRC/$f" >"$DST/$ko" ;;
			*.gz) gzip -dc "$SRC/$f" >"$DST/$ko" ;;
			*) cp "$SRC/$f" "$DST/$ko" ;;
			esac
			fdeps=$(grep -m1 "^$f:" "$SRC/modules.dep" | cut -d: -f2- | sed -E 's/\.ko\.(xz|zst|gz)/.ko/g')
			echo "$ko:$fdeps" >>"$DST/modules.dep"
		done
	done
	n=$(find "$DST" -name '*.ko' | wc -l)
	step "  $n module files, $(du -sh "$DST" | cut -f1) uncompressed"
	FILES+=(-files "$STAGE/lib/modules:lib/modules" -files "$STAGE/lib/modules-load.d:lib/modules-load.d")
fi

mkdir -p "$(dirname "$OUT")"
start=$(date +%s)
if [ -n "$FROM" ]; then
	step "adding to $FROM (commands, model and defaults as built there)"
	go tool mkuimage -nocmd -base "$FROM" -useinit -initcmd= -defaultsh= -uinitcmd= -skip-ldd \
		-o "$OUT.tmp" "${FILES[@]}" 2>"$STAGE/mkuimage.log" || {
		cat "$STAGE/mkuimage.log" >&2
		die "mkuimage failed"
	}
	mv "$OUT.tmp" "$OUT"
	step "built $OUT: $(stat -c %s "$OUT") bytes in $(($(date +%s) - start)) s"
	COMMANDS=()
fi
[ ${#COMMANDS[@]} -eq 0 ] || step "building the u-root busybox (${#COMMANDS[@]} commands) into $OUT"
# GOAMD64=v1: the image boots on any x86-64 (QEMU's default CPU included);
# llmboot picks its SIMD kernels at run time.
# goshsmall: gosh without its full-screen line editor, which draws with
# escape sequences a serial console (where firmware is used) renders poorly.
if [ ${#COMMANDS[@]} -gt 0 ]; then
	GOAMD64=v1 CGO_ENABLED=0 go tool mkuimage -build=bb -tags goshsmall -initcmd=init -defaultsh=gosh -uinitcmd= -skip-ldd \
		-o "$OUT.tmp" "${FILES[@]}" "${COMMANDS[@]}" 2>"$STAGE/mkuimage.log" || {
		cat "$STAGE/mkuimage.log" >&2
		die "mkuimage failed"
	}
	mv "$OUT.tmp" "$OUT"
	step "built $OUT: $(stat -c %s "$OUT") bytes in $(($(date +%s) - start)) s"
fi

if [ "$XZ" = 1 ]; then
	# The kernel's XZ decoder wants CRC32 checks (not xz's default CRC64).
	xz --check=crc32 -6 -T1 -c "$OUT" >"$OUT.xz.tmp"
	mv "$OUT.xz.tmp" "$OUT.xz"
	step "built $OUT.xz: $(stat -c %s "$OUT.xz") bytes"
fi
