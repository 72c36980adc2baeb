package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// These tests run the boot steps on the host against a fake /proc, /sys and
// /dev tree, with llmboot built from this module: the raw "device" is a
// regular file holding the GGUF followed by other bytes, as a disk would.
// Network setup is off (llmboot.net=none); the QEMU tests cover it.

var (
	buildOnce  sync.Once
	llmbootDir string
	buildErr   error
)

// llmbootOnPath builds llmboot once and puts it first on PATH.
func llmbootOnPath(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if _, err := exec.LookPath("go"); err != nil {
			buildErr = err
			return
		}
		llmbootDir, buildErr = os.MkdirTemp("", "uinit-test-llmboot")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", llmbootDir, "github.com/llmboot/llmboot/uroot-cmds/llmboot").CombinedOutput()
		if err != nil {
			buildErr = err
			llmbootDir = string(out)
		}
	})
	if buildErr != nil {
		t.Skipf("cannot build llmboot: %v %s", buildErr, llmbootDir)
	}
	t.Setenv("PATH", llmbootDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return filepath.Join(llmbootDir, "llmboot")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if llmbootDir != "" && buildErr == nil {
		os.RemoveAll(llmbootDir)
	}
	os.Exit(code)
}

const storyArgs = `-p 'Once upon a time' -n 32 --temp 0`

// bootTree is qemuTree with a command line and a model in place.
func bootTree(t *testing.T, cmdline string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{"proc/cmdline": cmdline + "\n"}
	for k, v := range qemuTree {
		files[k] = v
	}
	for k, v := range extra {
		files[k] = v
	}
	return fakeTree(t, files)
}

func demoModel(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostStory is what llmboot prints on stdout for the demo model and args.
func hostStory(t *testing.T, bin string, args ...string) string {
	t.Helper()
	argv := append([]string{"run", shareddata.Path(t, "models/gguf/stories260K.gguf")}, args...)
	out, err := exec.Command(bin, argv...).Output()
	if err != nil {
		t.Fatalf("host llmboot %v: %v", argv, err)
	}
	return string(out)
}

// wantLines checks that the fragments appear in the log in order (several
// may be in one line).
func wantLines(t *testing.T, log string, fragments ...string) {
	t.Helper()
	lines := strings.Split(log, "\n")
	i, col := 0, 0
	for _, f := range fragments {
		for i < len(lines) && !strings.Contains(lines[i][col:], f) {
			i, col = i+1, 0
		}
		if i == len(lines) {
			t.Errorf("no log line with %q after the earlier ones; log:\n%s", f, log)
			return
		}
		col += strings.Index(lines[i][col:], f) + len(f)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "uinit: ") {
			t.Errorf("log line without the uinit prefix: %q", l)
		}
	}
}

func runBoot(root string) (log, stdout, stderr string) {
	var l, o, e bytes.Buffer
	run(root, &o, &e, newLogger(&l))
	return l.String(), o.String(), e.String()
}

func TestRunRawDevice(t *testing.T) {
	bin := llmbootOnPath(t)
	disk := make([]byte, 8<<20)
	copy(disk, demoModel(t))
	for i := len(demoModel(t)); i < len(disk); i++ {
		disk[i] = byte(i)
	}
	root := bootTree(t, `console=ttyS0 llmboot.model=nvme0n1 llmboot.net=none llmboot.args="`+storyArgs+`"`,
		map[string]string{"dev/nvme0n1": string(disk)})
	log, stdout, stderr := runBoot(root)
	wantLines(t, log,
		"uinit: llmboot firmware; kernel command line: console=ttyS0 llmboot.model=nvme0n1",
		"2 CPUs online; SIMD: SSE3",
		"uinit: memory: 255 MiB installed, 215 MiB total to Linux, 166 MiB available",
		"uinit: nvme: nvme0n1 8.0 MiB (QEMU NVMe Ctrl, serial llmboot)",
		"uinit: disk: vda 1.0 GiB",
		"uinit: nic: eth0 52:54:00:12:34:56 (e1000), link down",
		"uinit: net: disabled (llmboot.net=none)",
		"(8.0 MiB file; the GGUF is read from offset 0)",
		"uinit: running: llmboot run "+filepath.Join(root, "dev/nvme0n1")+" "+storyArgs,
		"uinit: llmboot exited with status 0 after",
	)
	if want := hostStory(t, bin, "-p", "Once upon a time", "-n", "32", "--temp", "0"); stdout != want {
		t.Errorf("story from the raw device:\n%q\nwant (host, plain file):\n%q", stdout, want)
	}
	if !strings.Contains(stderr, "llmboot: "+filepath.Join(root, "dev/nvme0n1")+": gguf") {
		t.Errorf("llmboot summary on stderr: %s", stderr)
	}
}

// TestRunURLModel: a model named by URL is handed to llmboot, which reads
// it from the server (here one on the host; in QEMU the host is 10.0.2.2).
func TestRunURLModel(t *testing.T) {
	bin := llmbootOnPath(t)
	model := shareddata.Path(t, "models/gguf/stories260K.gguf")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, model)
	}))
	defer srv.Close()
	url := srv.URL + "/stories260K.gguf"
	root := bootTree(t, `llmboot.net=none llmboot.model=`+url+` llmboot.args="-n 8 --temp 0 -p Hello --strategy network"`, nil)
	log, stdout, _ := runBoot(root)
	wantLines(t, log,
		"uinit: model: "+url+" (over the network)",
		"uinit: running: llmboot run "+url+" -n 8 --temp 0 -p Hello --strategy network",
		"uinit: llmboot exited with status 0",
	)
	if want := hostStory(t, bin, "-n", "8", "--temp", "0", "-p", "Hello"); stdout != want {
		t.Errorf("story %q, want %q", stdout, want)
	}
}

func TestRunModelPath(t *testing.T) {
	bin := llmbootOnPath(t)
	root := bootTree(t, `llmboot.model=/models/stories260K.gguf llmboot.net=none llmboot.args="-n 8 --temp 0 -p Hello"`,
		map[string]string{"models/stories260K.gguf": string(demoModel(t))})
	log, stdout, _ := runBoot(root)
	wantLines(t, log,
		"uinit: model: /models/stories260K.gguf (1.1 MiB file)",
		"uinit: running: llmboot run "+filepath.Join(root, "models/stories260K.gguf")+" -n 8 --temp 0 -p Hello",
		"uinit: llmboot exited with status 0",
	)
	if want := hostStory(t, bin, "-n", "8", "--temp", "0", "-p", "Hello"); stdout != want {
		t.Errorf("story %q, want %q", stdout, want)
	}
}

// TestRunWithoutModel: every way of not having a model ends in a log line
// and no llmboot run; the shell comes next in main.
func TestRunWithoutModel(t *testing.T) {
	llmbootOnPath(t)
	defer func(d time.Duration) { deviceWait = d }(deviceWait)
	deviceWait = 200 * time.Millisecond
	for _, c := range []struct {
		cmdline string
		want    []string
	}{
		{"llmboot.net=none", []string{"uinit: model: none named (llmboot.model=); nothing to run", "not running llmboot"}},
		{"llmboot.net=none llmboot.model=nvme1n1",
			[]string{"uinit: error: /dev/nvme1n1 did not appear within 200ms (disks: nvme0n1, vda)", "not running llmboot"}},
		{"llmboot.net=none llmboot.model=/models/absent.gguf",
			[]string{"uinit: error: model /models/absent.gguf: stat ", "not running llmboot"}},
		{"llmboot.net=bogus llmboot.model=nvme0n1p1:rel",
			[]string{"uinit: error: llmboot.model=nvme0n1p1:rel: the path on nvme0n1p1 must be absolute",
				"uinit: error: llmboot.net=bogus: want dhcp, none or static",
				"uinit: net: disabled (llmboot.net is malformed)", "uinit: model: none named"}},
	} {
		log, stdout, _ := runBoot(bootTree(t, c.cmdline, nil))
		wantLines(t, log, c.want...)
		if strings.Contains(log, "running: llmboot") || stdout != "" {
			t.Errorf("%s: llmboot ran:\n%s", c.cmdline, log)
		}
	}
}

func TestRunLLMBootFails(t *testing.T) {
	llmbootOnPath(t)
	root := bootTree(t, `llmboot.net=none llmboot.model=/m.gguf llmboot.args=--no-such-flag`,
		map[string]string{"m.gguf": string(demoModel(t))})
	log, _, stderr := runBoot(root)
	wantLines(t, log, "uinit: running: llmboot run", "uinit: llmboot exited with status 2 after")
	if !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("llmboot's complaint missing from stderr: %q", stderr)
	}
}

// TestRunAutoAndDefaults: a ROM boots with an empty command line, so the
// image's defaults name the model (auto) and the flags.
func TestRunAutoAndDefaults(t *testing.T) {
	bin := llmbootOnPath(t)
	model := string(demoModel(t))
	defaults := `llmboot.model=auto llmboot.net=none llmboot.args="-n 8 --temp 0 -p 'One day'"`
	for _, c := range []struct {
		name    string
		cmdline string
		files   map[string]string
		want    []string
		story   bool
	}{
		{"raw NVMe namespace", "", map[string]string{"dev/vda": "not a model", "dev/nvme0n1": model + "rest of the disk"},
			[]string{"uinit: defaults from etc/llmboot/defaults (the kernel command line overrides them): " + defaults,
				"uinit: model: auto: nvme0n1", "uinit: model: /dev/nvme0n1 found after", "uinit: running: llmboot run", "-n 8 --temp 0 -p 'One day'"}, true},
		{"initramfs file", "", map[string]string{"dev/nvme0n1": "empty disk", "models/demo.gguf": model},
			[]string{"uinit: model: auto: /models/demo.gguf", "uinit: model: /models/demo.gguf (1.1 MiB file)", "uinit: running: llmboot run"}, true},
		{"nothing", "", nil,
			[]string{"uinit: model: auto: no disk starts with a GGUF and /models holds none; nothing to run", "not running llmboot"}, false},
		{"kernel command line wins", "llmboot.model=none", map[string]string{"dev/nvme0n1": model},
			[]string{"uinit: model: none named", "not running llmboot"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"etc/llmboot/defaults": defaults + "\n"}
			for k, v := range c.files {
				files[k] = v
			}
			log, stdout, _ := runBoot(bootTree(t, c.cmdline, files))
			wantLines(t, log, c.want...)
			if !c.story {
				if stdout != "" {
					t.Errorf("llmboot ran: %q", stdout)
				}
				return
			}
			if want := hostStory(t, bin, "-n", "8", "--temp", "0", "-p", "One day"); stdout != want {
				t.Errorf("story %q, want %q", stdout, want)
			}
		})
	}
}

func TestFirstLine(t *testing.T) {
	var b bytes.Buffer
	w := firstLine{&b}
	for _, msg := range []string{"uinit: Got DHCPv4 lease on eth0: DHCPv4 Message\n  opcode: BootReply\n  hwtype: Ethernet\n", "uinit: one line\n", "no newline"} {
		if n, err := w.Write([]byte(msg)); n != len(msg) || err != nil {
			t.Errorf("Write(%q) = %d, %v", msg, n, err)
		}
	}
	if want := "uinit: Got DHCPv4 lease on eth0: DHCPv4 Message\nuinit: one line\nno newline\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
