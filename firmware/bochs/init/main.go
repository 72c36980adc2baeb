// Command init is PID 1 of the initramfs firmware/bochs.sh boots under
// Bochs: it runs the test binary /test with the -test.* arguments from the
// kernel command line, prints its exit status as "bochs-init: exit N" on
// the console, and powers the machine off, which ends Bochs.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

func main() {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"tmpfs", "/tmp"}} {
		if err := syscall.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			fmt.Printf("bochs-init: mount %s: %v\n", m.dir, err)
		}
	}
	// The kernel hands init its unknown parameters as well: keep the test flags.
	var args []string
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.") {
			args = append(args, a)
		}
	}
	fmt.Printf("bochs-init: /test %s\n", strings.Join(args, " "))
	cmd := exec.Command("/test", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "HOME=/tmp", "TMPDIR=/tmp")
	rc := 0
	if err := cmd.Run(); err != nil {
		rc = 1
		if ee, ok := err.(*exec.ExitError); ok {
			rc = ee.ExitCode()
		}
		fmt.Printf("bochs-init: %v\n", err)
	}
	fmt.Printf("bochs-init: exit %d\n", rc)
	// Let the console drain before the kernel's power-off message.
	time.Sleep(time.Second)
	syscall.Sync()
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Printf("bochs-init: power off: %v\n", err)
	}
	select {}
}
