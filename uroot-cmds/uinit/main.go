// Command uinit is the boot-time program of the llmboot firmware: u-root's
// init starts it once the root file system and kernel modules are ready.
//
// It logs one line per step on the console, each starting "uinit: ":
//
//  1. a hardware summary: CPU model and SIMD extensions, RAM (installed,
//     given to Linux, available), disks with NVMe namespaces and sizes, NICs
//     with link state;
//  2. the network: DHCP by default, or llmboot.net=static:ADDR/PREFIX[,GW],
//     or llmboot.net=none; a DHCP timeout is logged, not fatal;
//  3. the model named by llmboot.model= (nvme0n1: a GGUF written raw on the
//     namespace; nvme0n1p1:/path/x.gguf: a file on that partition, mounted
//     read-only; /path/x.gguf: a file in the initramfs; auto: the first disk
//     that starts with a GGUF, else /models/*.gguf);
//  4. llmboot run MODEL with the flags of llmboot.args= (split as a shell
//     would), waiting for it and logging its exit status;
//
// and then it execs the shell. It must exec: init's child exiting would end
// the boot (a shell init starts after uinit returns dies at once).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// defaultsFile holds the image's boot settings in kernel command line syntax
// (firmware/initramfs.sh --defaults): a ROM boots with an empty command line.
const defaultsFile = "etc/llmboot/defaults"

func main() {
	lg := newLogger(os.Stdout)
	// Libraries (u-root's dhclient) log through the standard logger: give
	// their lines the same prefix on the same console.
	log.SetFlags(0)
	log.SetPrefix("uinit: ")
	log.SetOutput(firstLine{os.Stdout})

	// u-root's init hands uinit the console as two pipes, stdout and
	// stderr, each drained onto the console by its own goroutine
	// (libinit.WithMultiTTY's two io.MultiWriters), so what llmboot writes
	// to the two can reach the console out of order: its run summary
	// (stderr) once cut the story's last line (stdout) in two. One pipe
	// for both keeps the console in the order things were written.
	run("/", os.Stdout, os.Stdout, lg)
	execShell(lg)
}

// run performs the boot steps under root ("/" at boot; a fake tree in
// tests). Every failure is logged and the next step still runs: whatever
// happens, the shell comes next.
func run(root string, stdout, stderr io.Writer, lg *logger) {
	start := time.Now()
	raw, err := os.ReadFile(filepath.Join(root, "proc/cmdline"))
	if err != nil {
		lg.Printf("error: kernel command line: %v", err)
	}
	cmdline := strings.TrimSpace(string(raw))
	lg.Printf("llmboot firmware; kernel command line: %s", cmdline)
	var defaults string
	if b, err := os.ReadFile(filepath.Join(root, defaultsFile)); err == nil {
		defaults = strings.TrimSpace(string(b))
		lg.Printf("defaults from %s (the kernel command line overrides them): %s", defaultsFile, defaults)
	} else if !errors.Is(err, os.ErrNotExist) {
		lg.Printf("error: defaults: %v", err)
	}
	cfg, errs := parseBootConfig(defaults, cmdline)
	for _, err := range errs {
		lg.Printf("error: %v", err)
	}

	summarize(lg, root)
	setupNetwork(lg, root, cfg.net)

	model, err := locateModel(lg, root, cfg.model)
	if err != nil {
		if !errors.Is(err, errNoModel) {
			lg.Printf("error: %v", err)
		}
		lg.Printf("boot steps done in %s; not running llmboot", since(start))
		return
	}
	lg.Printf("boot steps done in %s", since(start))
	runLLMBoot(lg, model, cfg.args, stdout, stderr)
}

// summarize logs the hardware summary, one line per part.
func summarize(lg *logger, root string) {
	cpu, err := readCPU(root)
	if err != nil {
		lg.Printf("error: cpu: %v", err)
	}
	lg.Printf("cpu: %s", cpu)

	if mem, err := readMem(root); err != nil {
		lg.Printf("error: memory: %v", err)
	} else {
		lg.Printf("memory: %s", mem)
	}

	waitNVMe(lg, root)
	disks, err := readBlockDevices(root)
	if err != nil {
		lg.Printf("error: disks: %v", err)
	}
	nvme := 0
	for _, d := range disks {
		kind := "disk"
		if d.isNVMe() {
			kind = "nvme"
			nvme++
		}
		lg.Printf("%s: %s", kind, d)
	}
	if nvme == 0 {
		lg.Printf("nvme: no NVMe namespaces")
	}

	nics, err := readNICs(root)
	if err != nil {
		lg.Printf("error: nics: %v", err)
	}
	for _, n := range nics {
		lg.Printf("nic: %s", n)
	}
	if err == nil && len(nics) == 0 {
		lg.Printf("nic: none")
	}
}

// nvmeSettle bounds the wait for NVMe controllers to finish probing, so
// the summary lists their namespaces.
const nvmeSettle = 5 * time.Second

// waitNVMe waits until every NVMe controller in /sys/class/nvme is live and
// has a namespace, or nvmeSettle passes: the driver scans namespaces in the
// background after its module loads.
func waitNVMe(lg *logger, root string) {
	start := time.Now()
	for {
		pending := pendingNVMe(root)
		if len(pending) == 0 {
			return
		}
		if time.Since(start) > nvmeSettle {
			lg.Printf("nvme: %s not ready after %s", strings.Join(pending, ", "), nvmeSettle)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pendingNVMe names the controllers not yet live or without namespaces.
func pendingNVMe(root string) []string {
	dir := filepath.Join(root, "sys/class/nvme")
	ctrls, err := os.ReadDir(dir)
	if err != nil {
		return nil // no NVMe driver: nothing to wait for
	}
	var pending []string
	for _, c := range ctrls {
		state, _ := readTrimmed(filepath.Join(dir, c.Name(), "state"))
		ns, _ := filepath.Glob(filepath.Join(dir, c.Name(), c.Name()+"n*"))
		if alt, _ := filepath.Glob(filepath.Join(dir, c.Name(), "nvme*c*n*")); len(alt) > 0 {
			ns = append(ns, alt...) // multipath naming
		}
		if state != "live" || len(ns) == 0 {
			pending = append(pending, fmt.Sprintf("%s (state %q, %d namespaces)", c.Name(), state, len(ns)))
		}
	}
	return pending
}

// runLLMBoot runs `llmboot run model args...` on the console and logs how it
// ended.
func runLLMBoot(lg *logger, model string, args []string, stdout, stderr io.Writer) {
	bin, err := exec.LookPath("llmboot")
	if err != nil {
		lg.Printf("error: llmboot: %v", err)
		return
	}
	argv := append([]string{"run", model}, args...)
	lg.Printf("running: llmboot %s", quoteArgs(argv))
	cmd := exec.Command(bin, argv...)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	err = cmd.Run()
	took := since(start)
	var exit *exec.ExitError
	switch {
	case err == nil:
		lg.Printf("llmboot exited with status 0 after %s", took)
	case errors.As(err, &exit):
		lg.Printf("llmboot exited with status %d after %s (%v)", exit.ExitCode(), took, exit)
	default:
		lg.Printf("error: llmboot: %v", err)
	}
}

// shells are tried in order: mkuimage's -defaultsh link, then /bin/sh.
var shells = []string{"/bin/defaultsh", "/bin/sh", "/bbin/gosh"}

// execShell replaces uinit by the shell; it returns only if none can run.
func execShell(lg *logger) {
	for _, sh := range shells {
		if _, err := os.Stat(sh); err != nil {
			continue
		}
		lg.Printf("starting the shell (%s)", sh)
		err := syscall.Exec(sh, []string{sh}, os.Environ())
		lg.Printf("error: exec %s: %v", sh, err)
	}
	lg.Printf("error: no shell among %v; init continues without one", shells)
}

// firstLine passes on the first line of each message written to it: the
// standard logger writes one message per Write, and u-root's dhclient logs
// a whole DHCP packet after "Got DHCPv4 lease on eth0".
type firstLine struct{ w io.Writer }

func (f firstLine) Write(p []byte) (int, error) {
	line, _, _ := bytes.Cut(p, []byte("\n"))
	if _, err := f.w.Write(append(line[:len(line):len(line)], '\n')); err != nil {
		return 0, err
	}
	return len(p), nil
}

// logger writes "uinit: " lines; it is safe for concurrent use.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func newLogger(w io.Writer) *logger { return &logger{w: w} }

// Printf writes one line.
func (l *logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "uinit: "+format+"\n", args...)
}
