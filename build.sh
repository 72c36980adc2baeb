#!/usr/bin/env bash
# build.sh: every build, run and test entry point of llmboot.
#
#   ./build.sh demo            build the firmware, boot it in QEMU, generate a story inside it
#   ./build.sh test            gofmt, go vet, staticcheck, go test, firmware builds, QEMU boots, test-avx512 (CI)
#   ./build.sh run [ARGS...]   build llmboot and run it on the host (default: a story from the bundled model)
#   ./build.sh build           build bin/llmboot (static, CGO_ENABLED=0)
#   ./build.sh initramfs       u-root initramfs: out/initramfs.cpio (LinuxBoot), out/initramfs-debian.cpio.xz
#   ./build.sh kernel          LinuxBoot kernel with the initramfs inside: out/bzImage (first build ~9 min)
#   ./build.sh rom             UEFI ROM with the kernel in place of the DXE stage's shell: out/llmboot.rom
#   ./build.sh coreboot --rom coreboot.rom   add out/bzImage to a coreboot image as fallback/payload
#   ./build.sh qemu [debian|kernel|rom]      boot interactively (serial console; Ctrl-A X quits)
#   ./build.sh test-avx512     the SIMD kernel tests on an emulated AVX-512 + VNNI CPU (Bochs, ~2 min)
#   ./build.sh bench           regenerate docs/benchmarks.md's llama.cpp comparison (long)
#   ./build.sh fuzz [TIME]     run every fuzz target for TIME each (default 5m)
#   ./build.sh deps            install what the others need (Debian packages, Go 1.26)
set -euo pipefail
cd "$(dirname "$0")"

GO_VERSION=1.26.8
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
CACHE=${LLMBOOT_CACHE:-$HOME/.cache/llmboot}
DEMO_MODEL=testdata/models/gguf/stories260K.gguf

log() { printf '==> %s\n' "$*" >&2; }

# go_ok: a go command of at least 1.26 is on PATH.
go_ok() {
	command -v go >/dev/null 2>&1 || return 1
	local v
	v=$(go env GOVERSION 2>/dev/null) || return 1
	v=${v#go}
	local major=${v%%.*} rest=${v#*.}
	local minor=${rest%%.*}
	[ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "${minor%%[!0-9]*}" -ge 26 ]; }
}

# deps_go installs Go from the Go module proxy's toolchain zips (the only
# Go download these machines reach) when no Go 1.26+ is present.
deps_go() {
	export PATH=$PATH:/usr/local/go/bin:$CACHE/go/bin
	go_ok && return 0
	log "installing Go $GO_VERSION into $CACHE/go"
	command -v curl >/dev/null && command -v unzip >/dev/null || {
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl unzip ca-certificates >/dev/null
	}
	local zip
	zip=$(mktemp)
	curl -fsSL -o "$zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-amd64.zip"
	rm -rf "$CACHE/go" "$CACHE/go.tmp"
	mkdir -p "$CACHE/go.tmp"
	unzip -q "$zip" -d "$CACHE/go.tmp"
	rm -f "$zip"
	mv "$CACHE/go.tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64" "$CACHE/go"
	rm -rf "$CACHE/go.tmp"
	chmod +x "$CACHE/go/bin/"* "$CACHE/go/pkg/tool/"*/* 2>/dev/null || true
	export PATH=$CACHE/go/bin:$PATH
	go_ok || { echo "build.sh: installed Go does not run" >&2; exit 1; }
}

APT_PACKAGES="qemu-system-x86 ovmf linux-image-amd64 linux-source-6.1 coreboot-utils build-essential bc bison
flex libelf-dev libssl-dev cpio xz-utils dwarves kmod nginx curl unzip ca-certificates
bochs bochsbios vgabios isolinux syslinux-common genisoimage"

# deps_apt installs the Debian packages that are missing (root: CI and the
# firmware shell's builders run as root; otherwise through sudo).
deps_apt() {
	local missing=() p
	for p in $APT_PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

cmd_deps() {
	deps_apt
	deps_go
}

# The Debian kernel whose modules go into the initramfs for the fast boot path.
debian_kver() {
	local v
	v=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$v" ] || { echo "build.sh: no /boot/vmlinuz-*: apt-get install linux-image-amd64" >&2; exit 1; }
	echo "${v#/boot/vmlinuz-}"
}

cmd_initramfs() {
	deps_go
	mkdir -p out
	firmware/initramfs.sh out/initramfs.cpio
	# The same archive plus Debian's modules, for the fast -kernel/-initrd path.
	firmware/initramfs.sh --from out/initramfs.cpio --kernel-modules "$(debian_kver)" --xz out/initramfs-debian.cpio
}

cmd_kernel() {
	cmd_initramfs
	firmware/kernel.sh --initramfs out/initramfs.cpio --out out/bzImage
}

cmd_rom() {
	cmd_kernel
	firmware/rom.sh --payload out/bzImage --out out/llmboot.rom
}

cmd_coreboot() {
	[ -f out/bzImage ] || cmd_kernel
	firmware/coreboot.sh --payload out/bzImage "$@"
}

cmd_build() {
	deps_go
	mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -o bin/llmboot ./uroot-cmds/llmboot
	log "built bin/llmboot"
}

cmd_run() {
	cmd_build
	if [ $# -eq 0 ]; then
		set -- run "$DEMO_MODEL" -p "Once upon a time" -n 200 --seed 42
	fi
	log "bin/llmboot $*"
	bin/llmboot "$@"
}

cmd_test() {
	cmd_deps
	local t0=$SECONDS
	log "gofmt"
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt would change:" >&2
		echo "$unformatted" >&2
		exit 1
	fi
	log "go vet"
	go vet ./...
	log "staticcheck"
	go run "$STATICCHECK" ./...
	log "CGO_ENABLED=0 build, and GOARCH=arm64 build (the pure-Go paths)"
	CGO_ENABLED=0 go build ./...
	CGO_ENABLED=0 GOARCH=arm64 go build ./...
	log "lint and builds took $((SECONDS - t0)) s"
	# The firmware the QEMU tests boot: initramfs, LinuxBoot kernel (its
	# first build compiles Linux, ~9 min; cached after), UEFI ROM.
	t0=$SECONDS
	cmd_rom
	log "firmware built in $((SECONDS - t0)) s"
	t0=$SECONDS
	log "go test (unit tests, golden tests, QEMU boots of the three firmware forms)"
	go test -count=1 -timeout 40m ./...
	log "go test took $((SECONDS - t0)) s"
	cmd_test_avx512
}

# AVX512_TESTS are the kernel tests that hold every path's kernels to the
# generic code; test-avx512 runs them on the avx512 path of an emulated Ice
# Lake (this machine has no AVX-512, and QEMU's TCG does not emulate it).
AVX512_TESTS='TestSIMDDotsMatchGeneric|TestSIMDActivationQuantizers|TestSIMDSwiGLU|TestSIMDWeightedSum|TestDotRows|TestTileSplitMatchesScalar|TestMatMulMatchesVecDot|TestPathSelection'

cmd_test_avx512() {
	deps_apt
	deps_go
	[ -f out/bzImage ] || cmd_kernel
	local t0=$SECONDS bin=out/kernels-avx512.test logf=out/bochs-avx512.log
	log "kernel tests on an emulated AVX-512 + VNNI CPU (firmware/bochs.sh)"
	# Bochs mis-emulates what the Green Tea GC scans with (firmware/bochs.sh).
	GOEXPERIMENT=nogreenteagc CGO_ENABLED=0 go test -c -o "$bin" ./pkg/kernels
	firmware/bochs.sh --test "$bin" --env LLMBOOT_KERNELS=avx512 -- -test.v "-test.run=$AVX512_TESTS" | tee "$logf"
	# The tests pass on any path; make sure they ran the VNNI kernels.
	grep -a -q 'active avx512, VNNI kernels true' "$logf" || {
		echo "build.sh: the emulated CPU did not run the avx512 path with VNNI kernels (see $logf)" >&2
		exit 1
	}
	log "AVX-512 kernel tests took $((SECONDS - t0)) s"
}

DEMO_ARGS="-p 'Once upon a time' -n 200 --temp 0"

# disk_image writes out/disk.img: the demo model raw at offset 0 of a 64 MiB
# NVMe namespace (what llmboot.model=nvme0n1, or auto, finds).
disk_image() {
	mkdir -p out
	rm -f out/disk.img
	truncate -s 64M out/disk.img
	dd if="$DEMO_MODEL" of=out/disk.img conv=notrunc status=none
}

# qemu_cmd MODE prints nothing; it fills the QEMU array for MODE:
# debian (Debian's kernel + initramfs with modules), kernel (the LinuxBoot
# bzImage alone), rom (the UEFI ROM as -bios; no command line: uinit's auto).
qemu_cmd() {
	# The LinuxBoot kernel has console=ttyS0 built in: naming it again would
	# register the console twice and print every line twice.
	local mode=$1 append="llmboot.model=nvme0n1 llmboot.args=\"$DEMO_ARGS\""
	QEMU=(qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp 2 -nographic -no-reboot
		-device virtio-rng-pci
		-drive file=out/disk.img,if=none,id=nvm,format=raw -device nvme,serial=llmboot,drive=nvm
		-netdev user,id=net0 -device e1000,netdev=net0,romfile=)
	case "$mode" in
	debian) QEMU+=(-kernel "/boot/vmlinuz-$(debian_kver)" -initrd out/initramfs-debian.cpio.xz -append "console=ttyS0,115200 $append") ;;
	kernel) QEMU+=(-kernel out/bzImage -append "$append") ;;
	rom) QEMU+=(-bios out/llmboot.rom) ;;
	*)
		echo "build.sh: qemu mode $mode: want debian, kernel or rom" >&2
		exit 2
		;;
	esac
}

cmd_qemu() {
	local mode=${1:-kernel}
	case "$mode" in
	debian) [ -f out/initramfs-debian.cpio.xz ] || cmd_initramfs ;;
	kernel) [ -f out/bzImage ] || cmd_kernel ;;
	rom) [ -f out/llmboot.rom ] || cmd_rom ;;
	esac
	disk_image
	qemu_cmd "$mode"
	log "booting ($mode); the shell follows the story; Ctrl-A X quits QEMU"
	"${QEMU[@]}"
}

# cmd_demo builds the firmware, boots it, and lets llmboot tell a story from
# the NVMe disk; when the shell starts, it powers the VM off.
cmd_demo() {
	cmd_deps
	cmd_kernel
	disk_image
	qemu_cmd kernel
	log "booting the LinuxBoot kernel in QEMU (software emulation: ~10-30 s to the story)"
	local line sent=0 in out pid
	coproc VM { "${QEMU[@]}" 2>&1; }
	# bash unsets VM when the VM exits: keep the descriptors and pid.
	in=${VM[1]} out=${VM[0]} pid=$VM_PID
	while IFS= read -r line <&"$out"; do
		printf '%s\n' "$line"
		case "$line" in
		*"starting the shell"*)
			if [ $sent -eq 0 ]; then
				sent=1
				sleep 2
				printf 'poweroff\n' >&"$in" 2>/dev/null || true
			fi
			;;
		esac
	done
	wait "$pid"
}

cmd_bench() {
	deps_go
	tools/bench.sh "$@"
}

cmd_fuzz() {
	deps_go
	local t=${1:-5m}
	local pkg target
	for pkg in $(go list ./...); do
		for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
			log "fuzz $pkg $target for $t"
			go test -run '^$' -fuzz "^$target\$" -fuzztime "$t" "$pkg"
		done
	done
}

usage() { sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; }

case "${1:-}" in
run | test | build | fuzz | deps | bench | initramfs | kernel | rom | coreboot | qemu | demo | test-avx512)
	c=${1//-/_}
	shift
	"cmd_$c" "$@"
	;;
-h | --help | help | "") usage ;;
*)
	usage >&2
	exit 2
	;;
esac
