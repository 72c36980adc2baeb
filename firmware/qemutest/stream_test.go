package qemutest

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/model/synth"
)

// TestBootStreaming runs the loader's streaming strategies inside the
// firmware: the model on the emulated NVMe namespace read through io_uring
// with O_DIRECT, and the model on a web server on the host (QEMU's user
// network shows the host's loopback as 10.0.2.2), both producing the host's
// story. The LinuxBoot kernel only: the other modes boot the same userland.
func TestBootStreaming(t *testing.T) {
	var m mode
	for _, x := range modes {
		if x.name == "LinuxBootKernel" {
			m = x
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, demoModelPath())
	})}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	url := "http://10.0.2.2:" + strconv.Itoa(port) + "/stories260K.gguf"

	for _, c := range []struct {
		name, model, strategy, source string
	}{
		{"NVMeIOURing", "nvme0n1", "nvme", "nvme strategy (io_uring"},
		{"HTTP", url, "network", "network strategy (http range requests)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := storyArgsQuoted + " --strategy " + c.strategy
			keys := "llmboot.model=" + c.model + " llmboot.args=\"" + args + "\""
			res := bootAndDrive(t, m, "1G", keys, modelDisk(t))
			story := hostStory(t, storyArgs)
			if !strings.Contains(res.log, "\n"+story) {
				t.Errorf("the guest did not print the host's story; want (on a line of its own):\n%s", story)
			}
			if !strings.Contains(res.log, c.source) {
				t.Errorf("llmboot's summary does not say %q", c.source)
			}
			if l := line(res.log, "uinit: llmboot exited with status "); !strings.HasPrefix(l, "uinit: llmboot exited with status 0 ") {
				t.Errorf("llmboot failed: %q", l)
			}
		})
	}
}

// TestBootModelLargerThanRAM: a 256 MiB guest runs a ~350 MB generated model
// from its NVMe disk. The plan table sees it does not fit, streams it
// through io_uring, the guest is not OOM-killed, and the text equals the
// host's run of the same file.
func TestBootModelLargerThanRAM(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the large-model boot")
	}
	var m mode
	for _, x := range modes {
		if x.name == "LinuxBootKernel" {
			m = x
		}
	}
	if _, skip := linuxbootKernel.path(); skip != "" {
		t.Skip(skip) // before spending a minute generating the model
	}
	path := filepath.Join(t.TempDir(), "big.gguf")
	shape := synth.Shape{Dim: 1024, Hidden: 2816, Layers: 24, Heads: 16, KVHeads: 4, Vocab: 32000, Context: 2048, RopeBase: 10000, RMSEps: 1e-5}
	res, err := synth.Write(path, synth.Options{Shape: shape, Mix: "Q8_0", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %s: %d bytes", path, res.FileBytes)
	// No prompt (BOS alone): under TCG each prompt token costs seconds.
	args := []string{"-n", "4", "--temp", "0", "-c", "256"}
	out, err := exec.Command(hostLLMBoot(t), append([]string{"run", path, "--quiet"}, args...)...).Output()
	if err != nil {
		t.Fatalf("host run: %v", err)
	}
	want := string(out)
	keys := `llmboot.model=nvme0n1 llmboot.args="-n 4 --temp 0 -c 256 --explain"`
	r := bootAndDrive(t, m, "256M", keys, path)
	// stdout and stderr meet on the console: take the guest's text as the
	// lines between uinit's "running" and "exited" that are not llmboot's
	// summary or progress.
	if got := guestText(r.log); got != strings.ReplaceAll(want, "\n", "") {
		t.Errorf("the guest printed\n%q\nthe host\n%q", got, want)
	}
	for _, s := range []string{"llmboot: * nvme", "nvme strategy (io_uring"} {
		if !strings.Contains(r.log, s) {
			t.Errorf("the guest's plan or summary lacks %q", s)
		}
	}
	if strings.Contains(r.log, "Out of memory") || strings.Contains(r.log, "oom-kill") {
		t.Error("the guest ran out of memory")
	}
	if l := line(r.log, "uinit: llmboot exited with status "); !strings.HasPrefix(l, "uinit: llmboot exited with status 0 ") {
		t.Errorf("llmboot failed: %q", l)
	}
}

// guestText joins the console lines llmboot's generated text occupies.
func guestText(log string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(log, "\n") {
		switch {
		case strings.HasPrefix(l, llmbootRunningTag):
			in = true
		case strings.HasPrefix(l, "uinit: llmboot exited"):
			in = false
		case in && !strings.HasPrefix(l, "llmboot: ") && !strings.HasPrefix(l, "["):
			b.WriteString(l)
		}
	}
	return b.String()
}
