// Package kernelboot boot-tests the LinuxBoot kernel that firmware/kernel.sh builds, in QEMU (TCG):
// loaded directly (-kernel) and as an EFI application started by OVMF, whose EFI stub gets an
// empty command line. The llmboot checks on top of this kernel live with the initramfs tests.
package kernelboot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/hugelgupf/vmtest/qemu"
	"github.com/u-root/u-root/pkg/cpio"
)

const (
	// builtinCmdline is CONFIG_CMDLINE in firmware/linux/llmboot.config.
	builtinCmdline = "console=ttyS0,115200"
	ovmfCode       = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars       = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	// vmTimeout bounds one boot; TCG on a busy 2-core machine boots in 5-20 s.
	vmTimeout = 3 * time.Minute
)

// bootMode is how QEMU starts the kernel.
type bootMode int

const (
	// direct: QEMU's -kernel loader (the bzImage as a coreboot/LinuxBoot-style payload).
	direct bootMode = iota
	// ovmf: OVMF firmware runs EFI/BOOT/BOOTX64.EFI from a FAT drive; the EFI stub starts
	// the kernel with an empty command line, so only the built-in one applies.
	ovmf
)

func (m bootMode) String() string {
	if m == ovmf {
		return "ovmf"
	}
	return "direct"
}

// repoRoot is the folder holding go.mod, found upwards from the test's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test folder")
		}
		dir = parent
	}
}

func requireQEMU(t *testing.T, mode bootMode) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 is not installed (./build.sh deps)")
	}
	if mode == ovmf {
		if _, err := os.Stat(ovmfCode); err != nil {
			t.Skipf("OVMF is not installed (%s missing; ./build.sh deps)", ovmfCode)
		}
	}
}

// serialLog collects a VM's serial output; QEMU writes it from another goroutine.
type serialLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *serialLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *serialLog) Close() error { return nil }

func (s *serialLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(s.buf.String(), "\r", "")
}

// startVM boots kernel in mode (appendArgs go on the command line in direct mode; OVMF passes
// none) with extra QEMU options. The VM is killed at the end of the test if still running, and
// on failure its serial log is kept in out/test-logs/kernelboot/.
func startVM(t *testing.T, mode bootMode, kernel, appendArgs string, extra ...qemu.Fn) (*qemu.VM, *serialLog) {
	t.Helper()
	serial := &serialLog{}
	opts := []qemu.Fn{
		qemu.WithQEMUCommand("qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 512M -no-reboot"),
		qemu.WithVMTimeout(vmTimeout),
		qemu.WithSerialOutput(serial),
	}
	switch mode {
	case direct:
		opts = append(opts, qemu.WithKernel(kernel), qemu.WithAppendKernel(appendArgs))
	case ovmf:
		dir := t.TempDir()
		esp := filepath.Join(dir, "esp")
		if err := os.MkdirAll(filepath.Join(esp, "EFI", "BOOT"), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, kernel, filepath.Join(esp, "EFI", "BOOT", "BOOTX64.EFI"))
		vars := filepath.Join(dir, "OVMF_VARS.fd")
		copyFile(t, ovmfVars, vars)
		opts = append(opts, qemu.ArbitraryArgs(
			"-drive", "if=pflash,format=raw,readonly=on,file="+ovmfCode,
			"-drive", "if=pflash,format=raw,file="+vars,
			// Virtual FAT over a temporary copy (IDE wants it writable); OVMF boots the
			// removable-media path EFI/BOOT/BOOTX64.EFI.
			"-drive", "format=raw,file=fat:rw:"+esp,
		))
	}
	logDir := filepath.Join(repoRoot(t), "out", "test-logs", "kernelboot")
	vm := qemu.StartT(t, mode.String(), qemu.ArchAMD64, append(opts, extra...)...)
	t.Cleanup(func() {
		if !vm.Waited() {
			_ = vm.Kill()
			_ = vm.Wait()
		}
		if !t.Failed() {
			return
		}
		name := filepath.Join(logDir, strings.ReplaceAll(t.Name(), "/", "_")+".log")
		if err := os.MkdirAll(logDir, 0o755); err != nil {
			t.Logf("keeping the serial log: %v", err)
			return
		}
		if err := os.WriteFile(name, []byte(serial.String()), 0o644); err != nil {
			t.Logf("keeping the serial log: %v", err)
			return
		}
		t.Logf("serial log kept in %s", name)
	})
	return vm, serial
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// expectLine waits for a console match and fails the test naming what was awaited.
func expectLine(t *testing.T, vm *qemu.VM, what string, opt expect.ExpectOpt) string {
	t.Helper()
	out, err := vm.Console.Expect(opt, expect.WithTimeout(vmTimeout))
	if err != nil {
		t.Fatalf("serial console never showed %s: %v", what, err)
	}
	return out
}

// TestProductKernelBoots boots out/bzImage (the kernel with the real initramfs; LLMBOOT_KERNEL
// names another) and checks that the kernel comes up with the built-in console, hands over to
// /init, and /init writes to the console. The llmboot steps are asserted by the initramfs tests.
func TestProductKernelBoots(t *testing.T) {
	kernel := os.Getenv("LLMBOOT_KERNEL")
	if kernel == "" {
		kernel = filepath.Join(repoRoot(t), "out", "bzImage")
	}
	if _, err := os.Stat(kernel); err != nil {
		t.Skipf("%s is absent: build it with ./build.sh kernel (firmware/kernel.sh)", kernel)
	}
	for _, tc := range []struct {
		mode bootMode
		// wantLoaderCmdline is what the boot loader passed ("Command line:"); OVMF passes none.
		wantLoaderCmdline string
		// wantCmdline is the "Kernel command line:" line: built-in keys, then the loader's.
		wantCmdline string
	}{
		{direct, "llmboot.kernelboot=1", builtinCmdline + " llmboot.kernelboot=1"},
		{ovmf, "", builtinCmdline},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			requireQEMU(t, tc.mode)
			start := time.Now()
			// /init keeps running (llmboot, then a shell): startVM's cleanup stops the VM.
			vm, _ := startVM(t, tc.mode, kernel, "llmboot.kernelboot=1", qemu.ArbitraryArgs("-nic", "none"))
			expectLine(t, vm, "the kernel version", expect.RegexpPattern(`Linux version 6\.1\.`))
			// The kernel ends a line with a space where the loader's command line is empty.
			expectLine(t, vm, "the boot loader's command line",
				expect.RegexpPattern(`\] Command line: `+regexp.QuoteMeta(tc.wantLoaderCmdline)+` ?\r*\n`))
			expectLine(t, vm, "the kernel's command line",
				expect.RegexpPattern(`Kernel command line: `+regexp.QuoteMeta(tc.wantCmdline)+` ?\r*\n`))
			expectLine(t, vm, "the hand-over to /init", expect.String("Run /init as init process"))
			t.Logf("%s: /init started %.1f s after QEMU started", tc.mode, time.Since(start).Seconds())
			// A line that does not start with a printk timestamp comes from user space.
			expectLine(t, vm, "output from /init", expect.RegexpPattern(`\n[^\[\r\n][^\r\n]+\r*\n`))
		})
	}
}

// testInitramfs writes a newc cpio holding /dev/console and testinit as /init.
func testInitramfs(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	initBin := filepath.Join(dir, "init")
	build := exec.Command("go", "build", "-o", initBin, "./firmware/linux/kernelboot/testinit")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build testinit: %v\n%s", err, out)
	}
	initData, err := os.ReadFile(initBin)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "testinit.cpio")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := cpio.Newc.Writer(f)
	records := []cpio.Record{
		cpio.Directory("dev", 0o755),
		// The kernel opens /dev/console for init's stdio before anything mounts devtmpfs.
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.StaticFile("init", string(initData), 0o755),
	}
	if err := cpio.WriteRecordsAndDirs(w, records); err != nil {
		t.Fatalf("write %s: %v", archive, err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatalf("write %s: %v", archive, err)
	}
	return archive
}

// buildTestKernel relinks the cached kernel build with the testinit initramfs. It skips when the
// kernel was never compiled here: that takes ~9 minutes, which a test should not start.
func buildTestKernel(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	script := filepath.Join(root, "firmware", "kernel.sh")
	dirOut, err := exec.Command(script, "--print-build-dir").Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Skipf("kernel build unavailable: %s", strings.TrimSpace(string(exitErr.Stderr)))
		}
		t.Fatal(err)
	}
	buildDir := strings.TrimSpace(string(dirOut))
	if _, err := os.Stat(filepath.Join(buildDir, "vmlinux")); err != nil {
		t.Skipf("the kernel is not compiled yet in %s: run firmware/kernel.sh once (~9 minutes)", buildDir)
	}
	kernel := filepath.Join(t.TempDir(), "bzImage")
	cmd := exec.Command(script, "--initramfs", testInitramfs(t, root), "--out", kernel)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("firmware/kernel.sh with the testinit initramfs: %v\n%s", err, out)
	} else {
		t.Logf("firmware/kernel.sh:\n%s", out)
	}
	return kernel
}

// testinitReport parses the "testinit: key=value" lines of a serial log.
func testinitReport(serial string) map[string]string {
	report := map[string]string{}
	for _, line := range strings.Split(serial, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "testinit: ")
		if !ok {
			continue
		}
		if key, value, ok := strings.Cut(rest, "="); ok {
			report[key] = value
		}
	}
	return report
}

// TestKernelDriversWithTestInit boots the kernel with a tiny Go /init that reports what the kernel
// provides (disks, NICs and their drivers, entropy, io_uring, VFIO, EFI) and powers off.
func TestKernelDriversWithTestInit(t *testing.T) {
	if testing.Short() {
		t.Skip("relinks the kernel and boots QEMU twice (about a minute)")
	}
	requireQEMU(t, direct)
	kernel := buildTestKernel(t)
	for _, tc := range []struct {
		mode bootMode
		want map[string]string
		// contains: report keys whose value must contain each listed item.
		contains map[string][]string
	}{
		{
			mode: direct,
			want: map[string]string{
				"cmdline":  builtinCmdline + " llmboot.kernelboot=1",
				"hwrng":    "ok",
				"io_uring": "ok",
				"efi":      "false",
				"cpus":     "2",
			},
			contains: map[string][]string{
				"block": {"nvme0n1", "vda"},
				"net":   {":e1000", ":virtio_net"},
				"vfio":  {"vfio"},
			},
		},
		{
			mode: ovmf,
			want: map[string]string{
				"cmdline":  builtinCmdline,
				"hwrng":    "ok",
				"io_uring": "ok",
				"efi":      "true",
				"cpus":     "2",
			},
			contains: map[string][]string{
				"block": {"nvme0n1", "vda"},
				"net":   {":e1000", ":virtio_net"},
				"vfio":  {"vfio"},
			},
		},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			requireQEMU(t, tc.mode)
			dir := t.TempDir()
			nvme := filepath.Join(dir, "nvme.img")
			virtio := filepath.Join(dir, "virtio.img")
			for _, disk := range []string{nvme, virtio} {
				if err := os.WriteFile(disk, make([]byte, 1<<20), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			vm, serial := startVM(t, tc.mode, kernel, "llmboot.kernelboot=1",
				qemu.VirtioRandom(),
				qemu.ArbitraryArgs(
					"-drive", "if=none,id=nvm,format=raw,file="+nvme,
					"-device", "nvme,serial=llmboot0,drive=nvm",
					"-drive", "if=virtio,format=raw,file="+virtio,
					// romfile= drops the iPXE option ROMs: OVMF would try PXE first.
					"-netdev", "user,id=net0", "-device", "e1000,netdev=net0,romfile=",
					"-netdev", "user,id=net1", "-device", "virtio-net-pci,netdev=net1,romfile=",
				))
			expectLine(t, vm, "testinit's last line", expect.String("testinit: done="))
			boot := time.Since(start)
			// testinit powers off: QEMU must exit by itself (ACPI poweroff), and cleanly.
			if err := vm.Wait(); err != nil {
				t.Fatalf("QEMU did not exit cleanly after testinit powered off: %v", err)
			}
			report := testinitReport(serial.String())
			t.Logf("%s: booted to testinit's report in %.1f s; report: %v", tc.mode, boot.Seconds(), report)
			for key, want := range tc.want {
				if got := report[key]; got != want {
					t.Errorf("testinit %s = %q, want %q", key, got, want)
				}
			}
			for key, items := range tc.contains {
				got := report[key]
				for _, item := range items {
					if !strings.Contains(got, item) {
						t.Errorf("testinit %s = %q, want it to contain %q", key, got, item)
					}
				}
			}
			if msg, ok := report["error"]; ok {
				t.Errorf("testinit reported an error: %s", msg)
			}
		})
	}
}

// TestConfigVerificationNamesDroppedOptions checks kernel.sh's guard against Kconfig silently
// dropping options: a fragment with an option whose dependency is off, or with a misspelt
// option, must fail and name it; the real fragment must pass.
func TestConfigVerificationNamesDroppedOptions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make tinyconfig twice (about a minute)")
	}
	tarball := os.Getenv("LLMBOOT_LINUX_TARBALL")
	if tarball == "" {
		tarball = "/usr/src/linux-source-6.1.tar.xz"
	}
	if _, err := os.Stat(tarball); err != nil {
		t.Skipf("no kernel source (%v): apt-get install linux-source-6.1", err)
	}
	root := repoRoot(t)
	fragment, err := os.ReadFile(filepath.Join(root, "firmware", "linux", "llmboot.config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		extra string
		// wantDropped: option lines the script must name; none means it must succeed.
		wantDropped []string
	}{
		{name: "llmboot fragment", extra: ""},
		{
			name: "dropped options",
			// KVM depends on VIRTUALIZATION (off); NLS_CP437 is not an option (NLS_CODEPAGE_437 is).
			extra:       "CONFIG_KVM=y\nCONFIG_NLS_CP437=y\n",
			wantDropped: []string{"CONFIG_KVM=y", "CONFIG_NLS_CP437=y"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			frag := filepath.Join(dir, "fragment.config")
			if err := os.WriteFile(frag, append(append([]byte{}, fragment...), tc.extra...), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(filepath.Join(root, "firmware", "kernel.sh"),
				"--config-only", "--fragment", frag, "--build-dir", filepath.Join(dir, "build"))
			out, err := cmd.CombinedOutput()
			if len(tc.wantDropped) == 0 {
				if err != nil {
					t.Fatalf("kernel.sh --config-only failed on the real fragment: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("kernel.sh --config-only accepted options Kconfig drops:\n%s", out)
			}
			for _, option := range tc.wantDropped {
				if !strings.Contains(string(out), fmt.Sprintf("as requested: %s", option)) {
					t.Errorf("kernel.sh output does not name dropped option %s:\n%s", option, out)
				}
			}
		})
	}
}
