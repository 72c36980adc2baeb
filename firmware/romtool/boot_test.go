package main

// Boot tests: each builds a ROM with romtool and boots it in QEMU (TCG; KVM
// does not work on the build machines), checking on the serial console, and
// for Debian's kernel in the CPU state, that the payload started. Serial logs
// of failed boots stay in out/test-logs/romtool/.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"github.com/llmboot/llmboot/firmware/romtool/internal/testpayload"
)

const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	// bootTimeout bounds each VM; a boot takes 5-20 s under TCG, more on a
	// loaded machine.
	bootTimeout = 4 * time.Minute

	marker = "LLMBOOT-TEST-PAYLOAD started"
	// exitValue written by the test payload to isa-debug-exit: QEMU exits
	// with status exitValue*2+1.
	exitValue  = 0x21
	exitStatus = exitValue*2 + 1
)

var (
	repoRoot = filepath.Join("..", "..")
	keepList = filepath.Join(repoRoot, "firmware", "ovmf", "ovmf-2022.11-dxe-keep.txt")
	logDir   = filepath.Join(repoRoot, "out", "test-logs", "romtool")
)

func needFile(t *testing.T, path, why string) {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is missing (%s)", path, why)
	}
}

func needQEMU(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skipf("qemu-system-x86_64 is missing (Debian package qemu-system-x86): %v", err)
	}
}

// buildROM runs `romtool build` on Debian's OVMF and returns the ROM's path.
func buildROM(t *testing.T, payload string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "llmboot.rom")
	args := append([]string{"build", "--ovmf", ovmfCode, "--keep", keepList, "--payload", payload, "--out", out}, extra...)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("romtool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	t.Logf("romtool build (%.1fs):\n%s", time.Since(start).Seconds(), stdout.String())
	return out
}

func writePayload(t *testing.T, padding int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payload.efi")
	if err := os.WriteFile(p, testpayload.App(marker+"\r\n", exitValue, padding), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyFile copies src to a new file in a temporary directory (QEMU writes to
// writable pflash drives).
func copyFile(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// startVM boots QEMU with the given firmware arguments. The serial console
// goes to the test log and to a file kept when the test fails.
func startVM(t *testing.T, name string, args ...string) *qemu.VM {
	t.Helper()
	needQEMU(t)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "_")+".serial.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serial log kept: %s", logPath)
		} else {
			os.Remove(logPath)
		}
	})
	base := []string{
		"-accel", "tcg", "-cpu", "max", "-m", "512M", "-no-reboot",
		// No NIC: OVMF would try PXE from an iPXE option ROM first (+7 s).
		"-nic", "none",
		"-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=0x04", testpayload.DebugExitPort),
	}
	vm := qemu.StartT(t, name, qemu.ArchAMD64,
		qemu.WithQEMUCommand("qemu-system-x86_64"),
		// Boot the firmware alone, whatever VMTEST_* variables say.
		func(_ *qemu.IDAllocator, o *qemu.Options) error {
			o.Kernel, o.Initramfs, o.KernelArgs = "", "", ""
			return nil
		},
		qemu.ArbitraryArgs(base...),
		qemu.ArbitraryArgs(args...),
		qemu.WithVMTimeout(bootTimeout),
		qemu.WithSerialOutput(logFile),
	)
	// A failed expectation ends the test with QEMU still running: stop it
	// (this runs before StartT's check that Wait was called).
	t.Cleanup(func() {
		if !vm.Waited() {
			vm.Kill()
			vm.Wait()
		}
	})
	return vm
}

// expect waits for each string on the serial console in turn and logs how
// long after start it came.
func expect(t *testing.T, vm *qemu.VM, start time.Time, want ...string) {
	t.Helper()
	for _, w := range want {
		if _, err := vm.Console.ExpectString(w); err != nil {
			t.Fatalf("waiting for %q on the serial console: %v", w, err)
		}
		t.Logf("%q after %.1fs", w, time.Since(start).Seconds())
	}
}

// waitExit waits for QEMU to end and checks its status.
func waitExit(t *testing.T, vm *qemu.VM, want int) {
	t.Helper()
	err := vm.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != want {
		t.Fatalf("QEMU ended with %v, want exit status %d (the payload's isa-debug-exit write)", err, want)
	}
}

// The test payload (a tiny EFI application) boots from the Shell's slot in
// every way QEMU takes the ROM.
func TestBootTestPayload(t *testing.T) {
	needQEMU(t)
	needFile(t, ovmfCode, "Debian package ovmf")
	small := writePayload(t, 0)
	// 5 MiB of incompressible padding: the image has to grow to 8 MiB.
	big := writePayload(t, 5<<20)

	stock := buildROM(t, small)                       // fits: 3.48 MiB, like OVMF_CODE_4M.fd
	rom8M := buildROM(t, big)                         // grown to 8 MiB
	withVars := buildROM(t, small, "--size", "7664K") // 8 MiB less the VARS image
	if fi, err := os.Stat(rom8M); err != nil || fi.Size() != 8<<20 {
		t.Fatalf("grown ROM: %v, size %d, want 8 MiB", err, fi.Size())
	}

	for _, tc := range []struct {
		name string
		rom  string
		args func(t *testing.T, rom string) []string
	}{
		// The ROM in the stock layout, with its variable store beside it
		// as OVMF expects (pflash unit 1 at 0xFFC00000).
		{"stock-size-pflash-vars", stock, func(t *testing.T, rom string) []string {
			return []string{"-drive", "if=pflash,format=raw,readonly=on,file=" + rom,
				"-drive", "if=pflash,format=raw,file=" + copyFile(t, ovmfVars)}
		}},
		{"8M-bios", rom8M, func(t *testing.T, rom string) []string { return []string{"-bios", rom} }},
		{"8M-pflash", rom8M, func(t *testing.T, rom string) []string {
			return []string{"-drive", "if=pflash,format=raw,readonly=on,file=" + rom}
		}},
		// Writable: the flash variable driver, dropped from grown images,
		// would write a variable store into the code here.
		{"8M-pflash-writable", rom8M, func(t *testing.T, rom string) []string {
			return []string{"-drive", "if=pflash,format=raw,file=" + rom}
		}},
		// CODE + VARS within QEMU's 8 MiB pflash limit; the variable store
		// is not where OVMF looks, so variables stay in RAM.
		{"7.5M-pflash-vars", withVars, func(t *testing.T, rom string) []string {
			return []string{"-drive", "if=pflash,format=raw,readonly=on,file=" + rom,
				"-drive", "if=pflash,format=raw,file=" + copyFile(t, ovmfVars)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rom := copyFile(t, tc.rom)
			before, err := os.ReadFile(rom)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			vm := startVM(t, tc.name, tc.args(t, rom)...)
			expect(t, vm, start, "BdsDxe: starting Boot", marker)
			waitExit(t, vm, exitStatus)
			if after, err := os.ReadFile(rom); err != nil || !bytes.Equal(before, after) {
				t.Errorf("the ROM file changed during the boot (%v)", err)
			}
		})
	}
}

var ripRE = regexp.MustCompile(`RIP=([0-9a-f]{16})`)

// rip asks QEMU's monitor for the CPU's instruction pointer.
func rip(sock string) (uint64, error) {
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(c, "info registers\n"); err != nil {
		return 0, err
	}
	var seen strings.Builder
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		seen.WriteString(line)
		if m := ripRE.FindStringSubmatch(line); m != nil {
			return strconv.ParseUint(m[1], 16, 64)
		}
		if err != nil {
			return 0, fmt.Errorf("no RIP in the monitor's answer %q: %w", seen.String(), err)
		}
	}
}

// Debian's kernel (an EFI-stub bzImage of 8 MB) needs a 16 MiB image, which
// QEMU takes only with -bios. Under OVMF it gets no command line, so no
// console= and no serial output; that it started shows in the CPU: the
// instruction pointer moves into the kernel's mapping at the top of the
// address space, where the firmware (identity-mapped, below 4 GiB) never
// runs.
func TestBootDebianKernel(t *testing.T) {
	needQEMU(t)
	needFile(t, ovmfCode, "Debian package ovmf")
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		t.Skip("no /boot/vmlinuz-* (Debian package linux-image-amd64)")
	}
	rom := buildROM(t, kernels[len(kernels)-1])
	sock := filepath.Join(t.TempDir(), "monitor.sock")
	start := time.Now()
	vm := startVM(t, "debian-kernel", "-bios", rom, "-monitor", "unix:"+sock+",server,nowait")
	expect(t, vm, start, "BdsDxe: starting Boot")

	deadline := time.Now().Add(bootTimeout)
	var last uint64
	for time.Now().Before(deadline) {
		var err error
		if last, err = rip(sock); err != nil {
			t.Errorf("monitor: %v", err)
			break
		}
		if last >= 0xffffffff80000000 {
			t.Logf("RIP %#x (in the kernel) after %.1fs", last, time.Since(start).Seconds())
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if last < 0xffffffff80000000 {
		t.Errorf("RIP %#x: the kernel never ran", last)
	}
	vm.Kill()
	vm.Wait()
}

// The LinuxBoot kernel (out/bzImage, or $LLMBOOT_BZIMAGE, with its u-root
// initramfs and a built-in console=ttyS0) in an 8 MiB ROM, taken as -bios
// and as pflash.
func TestBootLinuxBoot(t *testing.T) {
	needQEMU(t)
	needFile(t, ovmfCode, "Debian package ovmf")
	bzImage := os.Getenv("LLMBOOT_BZIMAGE")
	if bzImage == "" {
		bzImage = filepath.Join(repoRoot, "out", "bzImage")
	}
	needFile(t, bzImage, "build it with ./build.sh kernel")
	rom := buildROM(t, bzImage, "--size", "8M")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bios", []string{"-bios", rom}},
		{"pflash", []string{"-drive", "if=pflash,format=raw,readonly=on,file=" + rom}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			vm := startVM(t, "linuxboot-"+tc.name, tc.args...)
			expect(t, vm, start, "BdsDxe: starting Boot", "Linux version", "Run /init as init process", "Welcome to u-root!")
			vm.Kill()
			vm.Wait()
		})
	}
}
