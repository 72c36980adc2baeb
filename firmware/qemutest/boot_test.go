package qemutest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/hugelgupf/vmtest/qemu"
)

// storyArgs are the llmboot flags every boot runs with: the image's defaults
// (firmware/initramfs.sh writes them), or the same flags given on the kernel
// command line.
var storyArgs = []string{"-p", "Once upon a time", "-n", "64", "--temp", "0"}

const storyArgsQuoted = `-p 'Once upon a time' -n 64 --temp 0`

// A mode is one way of booting the firmware: a row of the table every check
// runs over. boot returns the vmtest options that start it with the given
// llmboot keys on the kernel command line ("" for none: the image's
// defaults apply), or why it cannot run here (a missing artifact).
type mode struct {
	name string
	boot func(t *testing.T, keys string) ([]qemu.Fn, string)
}

var modes = []mode{
	{
		// Debian's kernel, our initramfs with its modules: the fast path, no
		// kernel build.
		name: "DebianKernel",
		boot: func(t *testing.T, keys string) ([]qemu.Fn, string) {
			initramfs, skip := debianInitramfs.path()
			if skip != "" {
				return nil, skip
			}
			kernel, skip := debianKernel(initramfs)
			if skip != "" {
				return nil, skip
			}
			return []qemu.Fn{boot(kernel, initramfs, strings.TrimSpace("console=ttyS0,115200 "+keys))}, ""
		},
	},
	{
		// The LinuxBoot kernel alone: initramfs embedded, console on its
		// built-in command line, which QEMU's -append extends.
		name: "LinuxBootKernel",
		boot: func(t *testing.T, keys string) ([]qemu.Fn, string) {
			kernel, skip := linuxbootKernel.path()
			if skip != "" {
				return nil, skip
			}
			return []qemu.Fn{boot(kernel, "", keys)}, ""
		},
	},
	{
		// The UEFI ROM: OVMF's SEC/PEI/DXE core, then our kernel in place of
		// the UEFI shell, with no command line at all.
		name: "UEFIROM",
		boot: func(t *testing.T, keys string) ([]qemu.Fn, string) {
			if keys != "" {
				return nil, "a ROM boots with no kernel command line to pass " + keys + " on"
			}
			rom, skip := uefiROM.path()
			if skip != "" {
				return nil, skip
			}
			return []qemu.Fn{boot("", "", ""), qemu.WithQEMUArgs("-bios", rom)}, ""
		},
	},
}

// boot sets kernel, initramfs and command line exactly (vmtest would
// otherwise take them from VMTEST_* variables).
func boot(kernel, initramfs, cmdline string) qemu.Fn {
	return func(_ *qemu.IDAllocator, o *qemu.Options) error {
		o.Kernel, o.Initramfs, o.KernelArgs = kernel, initramfs, cmdline
		return nil
	}
}

// machine is what every mode boots on: TCG (no KVM on the build machines),
// an entropy source (DHCP waits for random numbers without one), the model
// written raw on an NVMe namespace, and an e1000 NIC without its option ROM
// (OVMF would try PXE first).
func machine(mem, disk string) []qemu.Fn {
	return []qemu.Fn{
		qemu.WithQEMUCommand("qemu-system-x86_64"),
		qemu.WithQEMUArgs("-accel", "tcg", "-cpu", "max", "-no-reboot", "-m", mem),
		qemu.VirtioRandom(),
		qemu.WithQEMUArgs(
			"-drive", "file="+disk+",if=none,id=nvm,format=raw", "-device", "nvme,serial=llmboot,drive=nvm",
			"-netdev", "user,id=net0", "-device", "e1000,netdev=net0,romfile="),
	}
}

// modelDisk writes the demo GGUF at offset 0 of an 8 MiB image, the rest
// filled with bytes that are not zeros (a used disk).
func modelDisk(t *testing.T) string {
	t.Helper()
	model, err := os.ReadFile(demoModelPath())
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, 8<<20)
	copy(img, model)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := len(model); i < len(img); i++ {
		img[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "nvme.img")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// serialLog keeps the whole console output for the checks and in a file.
type serialLog struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	file *os.File
}

func (l *serialLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	return l.file.Write(p)
}

func (l *serialLog) Close() error { return l.file.Close() }

// text is the output so far, with the console's carriage returns removed.
func (l *serialLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.ReplaceAll(l.buf.String(), "\r", "")
}

// bootResult is what one boot showed, for the checks.
type bootResult struct {
	log           string
	toLLMBoot     time.Duration // QEMU start to "uinit: running: llmboot"
	toStoryEnd    time.Duration // QEMU start to llmboot's exit
	total         time.Duration // QEMU start to QEMU's exit after poweroff
	poweroffError error         // from QEMU's exit
}

// Step timeouts: TCG on a shared 2-core machine; a boot takes 10-20 s.
const (
	toLLMBootTimeout  = 150 * time.Second
	storyTimeout      = 120 * time.Second
	shellTimeout      = 30 * time.Second
	poweroffTimeout   = 60 * time.Second
	vmTimeout         = toLLMBootTimeout + storyTimeout + 2*shellTimeout + poweroffTimeout
	llmbootRunningTag = "uinit: running: llmboot run "
)

// bootAndDrive boots one mode with the given llmboot keys and NVMe disk
// image, waits for the story, talks to the shell and powers off, returning
// the console log and timings. A step that times out fails the test with
// the console so far.
func bootAndDrive(t *testing.T, m mode, mem, keys, disk string) bootResult {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no QEMU boots")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found (./build.sh deps installs qemu-system-x86)")
	}
	fns, skip := m.boot(t, keys)
	if skip != "" {
		t.Skip(skip)
	}
	logPath := filepath.Join(t.TempDir(), "serial.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	serial := &serialLog{file: f}
	fns = append(fns, machine(mem, disk)...)
	fns = append(fns,
		qemu.WithSerialOutput(serial),
		qemu.WithVMTimeout(vmTimeout),
		qemu.LogSerialByLine(qemu.DefaultPrint(m.name, t.Logf)),
	)
	start := time.Now()
	vm, err := qemu.Start(qemu.ArchAMD64, fns...)
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	t.Logf("QEMU: %s", vm.CmdlineQuoted())
	res := bootResult{}
	fail := func(format string, args ...any) {
		t.Helper()
		vm.Kill()
		vm.Wait()
		t.Fatalf("%s (after %s; console log %s, its lines above)", fmt.Sprintf(format, args...), time.Since(start).Round(time.Millisecond), logPath)
	}
	step := func(what string, timeout time.Duration, matcher expect.ExpectOpt) {
		t.Helper()
		if _, err := vm.Console.Expect(matcher, expect.WithTimeout(timeout)); err != nil {
			fail("waiting %s for %s: %v", timeout, what, err)
		}
	}
	step("llmboot to start", toLLMBootTimeout, expect.String(llmbootRunningTag))
	res.toLLMBoot = time.Since(start)
	step("llmboot to exit", storyTimeout, expect.Regexp(regexp.MustCompile(`uinit: llmboot exited with status \d+`)))
	res.toStoryEnd = time.Since(start)
	step("the shell prompt", shellTimeout, expect.String("$ "))
	if _, err := vm.Console.SendLine("echo ok-$((1+1))"); err != nil {
		fail("typing in the shell: %v", err)
	}
	step("the shell's answer", shellTimeout, expect.String("ok-2"))
	// Wait for the next prompt: a line typed ahead is echoed in the middle
	// of the output.
	step("the shell prompt", shellTimeout, expect.String("$ "))
	if _, err := vm.Console.SendLine("poweroff"); err != nil {
		fail("typing poweroff: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- vm.Wait() }()
	select {
	case res.poweroffError = <-done:
	case <-time.After(poweroffTimeout):
		fail("QEMU still running %s after poweroff", poweroffTimeout)
	}
	res.total = time.Since(start)
	res.log = serial.text()
	t.Logf("%s: llmboot started at %s, story done at %s, QEMU exited at %s", m.name,
		res.toLLMBoot.Round(time.Millisecond), res.toStoryEnd.Round(time.Millisecond), res.total.Round(time.Millisecond))
	return res
}

// line returns the first console line containing prefix, or "".
func line(log, prefix string) string {
	for _, l := range strings.Split(log, "\n") {
		if i := strings.Index(l, prefix); i >= 0 {
			return l[i:]
		}
	}
	return ""
}

var installedRAM = regexp.MustCompile(`^uinit: memory: (\d+) MiB installed, (\d+) MiB total to Linux, (\d+) MiB available`)

// checkBoot runs the checks every boot must pass.
func checkBoot(t *testing.T, res bootResult, memMiB int) {
	t.Helper()
	log := res.log
	if l := line(log, "uinit: cpu: "); !strings.Contains(l, "CPUs online; SIMD: ") {
		t.Errorf("no CPU summary (model, SIMD): %q", l)
	}
	l := line(log, "uinit: memory: ")
	mm := installedRAM.FindStringSubmatch(l)
	if mm == nil {
		t.Errorf("no memory summary: %q", l)
	} else {
		installed, _ := strconv.Atoi(mm[1])
		total, _ := strconv.Atoi(mm[2])
		// All the RAM the machine has, less the firmware's own bits: no
		// UEFI-sized pool in sight.
		if installed > memMiB || installed < memMiB*9/10 || total < memMiB*6/10 {
			t.Errorf("memory summary %q for a %d MiB guest", l, memMiB)
		}
	}
	if l := line(log, "uinit: nvme: nvme0n1 "); !strings.Contains(l, "nvme0n1 8.0 MiB (QEMU NVMe Ctrl, serial llmboot)") {
		t.Errorf("NVMe namespace not in the summary: %q", l)
	}
	if l := line(log, "uinit: nic: "); !strings.Contains(l, "(e1000)") {
		t.Errorf("NIC not in the summary: %q", l)
	}
	if l := line(log, "uinit: net: eth0: "); !strings.HasPrefix(l, "uinit: net: eth0: 10.0.2.15/24, router 10.0.2.2") {
		t.Errorf("no DHCP address: %q", l)
	}
	checkStory(t, log, "/dev/nvme0n1")
	if !strings.Contains(log, "\nok-2\n") {
		t.Error("the shell did not answer echo ok-$((1+1))")
	}
	if res.poweroffError != nil {
		t.Errorf("QEMU exit after poweroff: %v", res.poweroffError)
	}
}

// checkStory checks that llmboot ran on model with storyArgs, printed the
// host's story and exited with status 0.
func checkStory(t *testing.T, log, model string) {
	t.Helper()
	if l, want := line(log, llmbootRunningTag), llmbootRunningTag+model+" "+storyArgsQuoted; l != want {
		t.Errorf("llmboot ran as\n%q\nwant\n%q", l, want)
	}
	story := hostStory(t, storyArgs)
	if !strings.Contains(log, "\n"+story) {
		t.Errorf("the guest did not print the host's story; want (on a line of its own):\n%s", story)
	}
	if l := line(log, "uinit: llmboot exited with status "); !strings.HasPrefix(l, "uinit: llmboot exited with status 0 ") {
		t.Errorf("llmboot failed: %q", l)
	}
}

// TestBoot boots each mode with 1 GiB, the model raw on the NVMe disk, and
// runs every check.
func TestBoot(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			res := bootAndDrive(t, m, "1G", rawKeys(m), modelDisk(t))
			if line(res.log, "uinit: model: /dev/nvme0n1 found after") == "" {
				t.Error("/dev/nvme0n1 not found")
			}
			checkBoot(t, res, 1024)
		})
	}
}

// TestBootSmallRAM boots each mode with 256 MiB: the model still runs and the
// summary shows (nearly) all of the RAM.
func TestBootSmallRAM(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			res := bootAndDrive(t, m, "256M", rawKeys(m), modelDisk(t))
			checkBoot(t, res, 256)
		})
	}
}

// rawKeys names the model and flags on the command line for the Debian
// kernel (testing that path); the other modes use the image's defaults
// (llmboot.model=auto finds the same disk), as a ROM must.
func rawKeys(m mode) string {
	if m.name == "DebianKernel" {
		return "llmboot.model=nvme0n1 llmboot.args=\"" + storyArgsQuoted + "\""
	}
	return ""
}

// TestBootModelOnPartition: llmboot.model=nvme0n1p1:/models/x.gguf mounts
// an ext4 partition read-only and runs the file on it.
func TestBootModelOnPartition(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			if _, err := exec.LookPath("mkfs.ext4"); err != nil {
				t.Skip("mkfs.ext4 not found (apt-get install e2fsprogs)")
			}
			keys := "llmboot.model=nvme0n1p1:/models/stories260K.gguf llmboot.args=\"" + storyArgsQuoted + "\""
			res := bootAndDrive(t, m, "1G", keys, partitionedDisk(t))
			if l := line(res.log, "uinit: model: mounted /dev/nvme0n1p1 "); l != "uinit: model: mounted /dev/nvme0n1p1 (ext4, read-only) on /mnt/nvme0n1p1" {
				t.Errorf("partition not mounted: %q", l)
			}
			checkStory(t, res.log, "/mnt/nvme0n1p1/models/stories260K.gguf")
		})
	}
}

// partitionedDisk makes an 8 MiB disk image with an MBR partition table and
// one Linux partition from 1 MiB to the end, holding an ext4 file system
// with /models/stories260K.gguf (mkfs.ext4 -d fills it without root).
func partitionedDisk(t *testing.T) string {
	t.Helper()
	const (
		diskSize = 8 << 20
		start    = 1 << 20
	)
	dir := t.TempDir()
	src := filepath.Join(dir, "fs")
	if err := os.MkdirAll(filepath.Join(src, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(demoModelPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "models/stories260K.gguf"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	fsImg := filepath.Join(dir, "part.img")
	out, err := exec.Command("mkfs.ext4", "-q", "-F", "-L", "models", "-d", src, fsImg, fmt.Sprint((diskSize-start)>>10)+"k").CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	part, err := os.ReadFile(fsImg)
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, diskSize)
	copy(img[start:], part)
	// MBR: one entry at 446: status, CHS (unused), type 0x83, CHS, first
	// LBA, sector count; signature 55 AA.
	e := img[446:462]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], start/512)
	binary.LittleEndian.PutUint32(e[12:], (diskSize-start)/512)
	img[510], img[511] = 0x55, 0xAA
	path := filepath.Join(dir, "nvme.img")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
