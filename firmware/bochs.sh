#!/usr/bin/env bash
# firmware/bochs.sh: run a Go test binary on an emulated AVX-512 CPU (Bochs), to test kernels this
# machine's CPU cannot run.
#
# Usage:    firmware/bochs.sh --test FILE [--kernel FILE] [--cpu MODEL] [--timeout SECONDS] [--env K=V]...
#                             [-- -test.run=... ...]
# Takes:    --test     a static test binary (CGO_ENABLED=0 GOEXPERIMENT=nogreenteagc go test -c)
#           --kernel   the kernel to boot (default out/bzImage, the LinuxBoot kernel)
#           --cpu      Bochs CPU model (default corei7_icelake_u: AVX-512 F/BW/VL/DQ + VNNI;
#                      corei7_skylake_x has AVX-512 without VNNI)
#           --timeout  wall-clock limit (default 1200)
#           --env      an environment variable for the test (repeatable), e.g. LLMBOOT_KERNELS=avx512
#           after --    the test binary's -test.* flags
# Needs:    bochs bochsbios vgabios isolinux syslinux-common genisoimage cpio (`./build.sh deps`)
# Produces: the guest's console on stdout; exit status: the test binary's (1 if it never reported one)
#
# Why Bochs: QEMU's TCG does not emulate AVX-512, and this project's machines lack it. Bochs 2.7 does
# (EVEX, VNNI), slowly (tens of MIPS). Its newer CPU models need three workarounds, each on the
# kernel command line:
#  - they declare a TSC frequency (CPUID 0x15/0x16) that Bochs's TSC, one tick per instruction, does
#    not run at, so udelay() spins ~25x too long: tsc_early_khz=ips/1000 makes the kernel agree;
#  - their XSAVE leaves are inconsistent (PKRU size 0; a compacted size for the standard layout), so
#    Linux would turn XSAVE, and with it AVX, off: clearcpuid of pku, ospke, xsavec, xsaves;
#  - with fsrm/erms/rdpid/umip the boot stalls in a spinlock: cleared too.
# The Go runtime's Green Tea GC scans with AVX-512 instructions that Bochs gets wrong (the runtime
# reports a pointer to a free object), so test binaries are built with GOEXPERIMENT=nogreenteagc.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernel=$repo/out/bzImage
cpu=corei7_icelake_u
timeout=1200
test_bin=
envs=()
ips=100000000

die() { printf 'bochs: error: %s\n' "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--test) test_bin=$(realpath -- "${2:?--test needs a file}"); shift 2 ;;
	--kernel) kernel=$(realpath -- "${2:?--kernel needs a file}"); shift 2 ;;
	--cpu) cpu=${2:?--cpu needs a model}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--env) envs+=("${2:?--env needs K=V}"); shift 2 ;;
	--) shift; break ;;
	*) die "unknown argument $1 (see the header of $0)" ;;
	esac
done
[ -n "$test_bin" ] || die "--test is required"
[ -f "$test_bin" ] || die "test binary $test_bin not found"
[ -f "$kernel" ] || die "kernel $kernel not found (./build.sh kernel)"
for tool in bochs-bin genisoimage cpio; do
	command -v "$tool" >/dev/null || die "$tool not installed (./build.sh deps)"
done
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$isolinux" ] && [ -f "$ldlinux" ] || die "isolinux not installed (./build.sh deps)"
for a in "$@"; do
	case $a in -test.*) ;; *) die "only -test.* flags go after -- (got $a)" ;; esac
	case $a in *' '*) die "test flags cannot hold spaces (kernel command line): $a" ;; esac
done
for e in "${envs[@]}"; do
	case $e in *=*) ;; *) die "--env wants K=V, got $e" ;; esac
	case $e in *' '*) die "--env values cannot hold spaces: $e" ;; esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root"/{proc,sys,tmp} "$work/iso/isolinux"
CGO_ENABLED=0 go build -C "$repo" -trimpath -o "$work/root/init" ./firmware/bochs/init
cp "$test_bin" "$work/root/test"
(cd "$work/root" && find . | cpio -o -H newc --quiet) >"$work/iso/initrd"
cp "$kernel" "$work/iso/bzImage"
cp "$isolinux" "$ldlinux" "$work/iso/isolinux/"
cat >"$work/iso/isolinux/isolinux.cfg" <<EOF
DEFAULT t
PROMPT 0
TIMEOUT 0
LABEL t
  KERNEL /bzImage
  APPEND initrd=/initrd console=ttyS0,115200 loglevel=4 idle=halt tsc_early_khz=$((ips / 1000)) nokaslr mitigations=off nopku clearcpuid=515,516,321,323,580,534,514,297 ${envs[*]} -- $*
EOF
genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$work/iso"
cat >"$work/bochsrc" <<EOF
megs: 2048
cpu: model=$cpu, count=1, ips=$ips
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/console
display_library: rfb, options="timeout=0"
log: $work/bochs.log
panic: action=fatal
error: action=ignore
info: action=ignore
clock: sync=none, time0=local
EOF
: >"$work/console"
# Debian's Bochs has its debugger built in and stops at the first
# instruction: "c" on stdin continues. The guest's power-off ends Bochs.
start=$SECONDS
set +e
timeout "$timeout" bochs-bin -q -f "$work/bochsrc" <<<c >"$work/bochs.out" 2>&1 &
bochs=$!
tail -f -n +1 --pid=$bochs "$work/console" &
wait $bochs
rc=$?
sleep 1
set -e
status=$(grep -a -o 'bochs-init: exit [0-9][0-9]*' "$work/console" | tail -n 1 | awk '{print $3}')
if [ -z "$status" ]; then
	if [ "$rc" -eq 124 ]; then
		printf 'bochs: error: no result within %s s (see the console above)\n' "$timeout" >&2
	else
		printf 'bochs: error: the guest stopped without a result (bochs exit %s):\n' "$rc" >&2
		tail -n 5 "$work/bochs.out" >&2
	fi
	exit 1
fi
printf 'bochs: %s on %s: exit %s after %d s\n' "$(basename "$test_bin")" "$cpu" "$status" $((SECONDS - start)) >&2
exit "$status"
