package main

import (
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// TestStrategiesSameText: memory, nvme (io_uring or pread) and network give
// the same greedy text.
func TestStrategiesSameText(t *testing.T) {
	model := shareddata.Path(t, "models/gguf/stories260K.gguf")
	srv := httptest.NewServer(modelHandler(map[string]string{"stories260K.gguf": model}))
	defer srv.Close()
	url := srv.URL + "/stories260K.gguf"
	args := []string{"-p", "Once upon a time", "-n", "40", "--temp", "0", "-t", "1", "--quiet"}
	want, stderr, err := runCmd(append([]string{"run", model, "--strategy", "memory"}, args...)...)
	if err != nil {
		t.Fatalf("memory: %v\n%s", err, stderr)
	}
	for _, c := range []struct {
		model, strategy, source string
	}{
		{model, "nvme", "nvme strategy"},
		{url, "network", "network strategy"},
		{url, "memory", "memory strategy (read into memory)"},
		{url, "auto", "memory strategy"},
	} {
		t.Run(c.strategy+"/"+filepath.Base(c.model), func(t *testing.T) {
			out, stderr, err := runCmd(append([]string{"run", c.model, "--strategy", c.strategy}, args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			if out != want {
				t.Errorf("text differs from the memory strategy:\n got %q\nwant %q", out, want)
			}
			if !strings.Contains(stderr, c.source) {
				t.Errorf("summary does not say %q:\n%s", c.source, stderr)
			}
		})
	}
	// A memory limit below the model forces streaming, and --explain says why.
	// (-c 64 keeps the KV cache small: the limit then sits between the two plans.)
	out, stderr, err := runCmd(append([]string{"run", model, "--mem-limit", "65M", "-c", "64", "--explain"}, args...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if out != want || !strings.Contains(stderr, "infeasible") || !strings.Contains(stderr, "* nvme") {
		t.Errorf("mem-limit: text %q\n%s", out, stderr)
	}
	// Too little for anything: refused, naming the sizes.
	_, _, err = runCmd(append([]string{"run", model, "--mem-limit", "1M"}, args...)...)
	if err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("1M limit: %v", err)
	}
	// A wrong digest is caught before generation.
	_, _, err = runCmd(append([]string{"run", url, "--sha256", strings.Repeat("0", 64)}, args...)...)
	if err == nil || !strings.Contains(err.Error(), "expected 0000") {
		t.Errorf("bad sha256: %v", err)
	}
}

// TestNginx streams from Debian's nginx, the server users already have.
func TestNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 != nil {
			t.Skip("nginx not installed (./build.sh deps installs it)")
		}
		nginx = "/usr/sbin/nginx"
	}
	model := shareddata.Path(t, "models/gguf/stories260K.gguf")
	dir := t.TempDir()
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "m.gguf"), data, 0o644)
	port := freePort(t)
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`daemon off;
%[3]s
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[1]s; }
}
`, dir, port, userLine())), 0o644)
	cmd := exec.Command(nginx, "-c", conf, "-p", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitPort(t, port)
	url := fmt.Sprintf("http://127.0.0.1:%d/m.gguf", port)
	args := []string{"-p", "Once upon a time", "-n", "30", "--temp", "0", "-t", "1", "--quiet"}
	want, _, err := runCmd(append([]string{"run", model, "--strategy", "memory"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	got, stderr, err := runCmd(append([]string{"run", url, "--strategy", "network"}, args...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if got != want {
		t.Errorf("nginx: %q, want %q", got, want)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	srv := httptest.NewServer(nil)
	defer srv.Close()
	var port int
	fmt.Sscanf(srv.URL[strings.LastIndex(srv.URL, ":")+1:], "%d", &port)
	return port
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	var err error
	for i := 0; i < 100; i++ {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not listen on %d: %v", port, err)
}

// userLine keeps nginx's workers as root when the test runs as root: they
// could not read the test's private temp folder as www-data.
func userLine() string {
	if os.Geteuid() == 0 {
		return "user root;"
	}
	return ""
}
