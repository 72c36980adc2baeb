// Command testinit is a minimal /init for boot-testing the LinuxBoot kernel without u-root: it
// reports, one "testinit: key=value" line each, what the kernel gave it (command line, block
// devices, NICs, entropy, io_uring, VFIO, EFI), then powers the machine off. Its output is what
// the kernelboot tests assert on.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func report(key, format string, args ...any) {
	fmt.Printf("testinit: %s=%s\n", key, fmt.Sprintf(format, args...))
}

// mounts gives the init the pseudo filesystems it reads; the kernel mounts none of them for an
// initramfs (DEVTMPFS_MOUNT only applies to a disk root).
func mounts() error {
	for _, m := range []struct{ fstype, dir string }{
		{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"tmpfs", "/tmp"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", m.dir, err)
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	return nil
}

// names lists a directory's entries, sorted, joined with commas ("none" when empty or absent).
func names(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return "none"
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// ioURING reports whether io_uring_setup works (CONFIG_IO_URING); the ring is closed at once.
func ioURING() string {
	var params [120]byte // struct io_uring_params
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&params[0])), 0)
	if errno != 0 {
		return "error: " + errno.Error()
	}
	unix.Close(int(fd))
	return "ok"
}

// hwrng reads from the hardware RNG device (virtio-rng in QEMU).
func hwrng() string {
	f, err := os.Open("/dev/hwrng")
	if err != nil {
		return "error: " + err.Error()
	}
	defer f.Close()
	buf := make([]byte, 16)
	if _, err := f.Read(buf); err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// netDrivers maps each NIC to its driver, e.g. "eth0:virtio_net".
func netDrivers() string {
	var out []string
	for _, nic := range strings.Split(names("/sys/class/net"), ",") {
		if nic == "none" || nic == "lo" {
			continue
		}
		driver, err := filepath.EvalSymlinks(filepath.Join("/sys/class/net", nic, "device/driver"))
		if err != nil {
			out = append(out, nic+":nodriver")
			continue
		}
		out = append(out, nic+":"+filepath.Base(driver))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

func main() {
	start := time.Now()
	report("started", "pid %d", os.Getpid())
	if err := mounts(); err != nil {
		report("error", "%v", err)
	}
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		report("error", "read /proc/cmdline: %v", err)
	}
	report("cmdline", "%s", strings.TrimSpace(string(cmdline)))
	report("cpus", "%d", runtime.NumCPU())
	report("block", "%s", names("/sys/class/block"))
	report("net", "%s", netDrivers())
	report("hwrng", "%s", hwrng())
	report("io_uring", "%s", ioURING())
	report("vfio", "%s", names("/dev/vfio"))
	_, err = os.Stat("/sys/firmware/efi")
	report("efi", "%t", err == nil)
	report("done", "%s", time.Since(start).Round(time.Millisecond))
	unix.Sync()
	// The kernel panics when init exits; power off instead (ACPI S5: QEMU exits by itself).
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		report("error", "power off: %v", err)
	}
	select {}
}
