package qemutest

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
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
