package nvmeio

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestThroughputVsFio compares O_DIRECT io_uring reads of a 256 MiB file (four 64 MiB ReadAt calls into
// one buffer) with fio's ioengine=io_uring at the same block size (1 MiB) and queue depths, alternating runs and keeping each side's best of
// three, and holds the Reader to the target of 0.9x fio. Opt-in (NVMEIO_FIO=1, fio on PATH)
// because it takes a few seconds of disk time and a loaded machine makes it noisy.
//
//	NVMEIO_FIO=1 go test -run VsFio -v ./pkg/nvmeio
func TestThroughputVsFio(t *testing.T) {
	if os.Getenv("NVMEIO_FIO") != "1" {
		t.Skip("set NVMEIO_FIO=1 to compare with fio")
	}
	if _, err := exec.LookPath("fio"); err != nil {
		t.Skip("no fio on PATH")
	}
	const size = 256 << 20
	dir := os.Getenv("NVMEIO_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "nvmeio-fio.bin")
	if err := writeBenchFile(path, size); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	// Like the streaming loader, read 64 MiB spans into one reused buffer (fio reuses its iodepth buffers).
	const span = 64 << 20
	buf, err := AlignedBuffer(span, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer FreeAlignedBuffer(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}

	for _, qd := range []int{1, 8, 32} {
		var ours, theirs float64
		for range 3 {
			r, err := OpenReader(path, ReaderOptions{Direct: true, QueueDepth: qd, BlockSize: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if r.Mode() != "io_uring+O_DIRECT" {
				r.Close()
				t.Skipf("mode %s here", r.Mode())
			}
			start := time.Now()
			for off := int64(0); off < size; off += span {
				if n, err := r.ReadAt(buf, off); n != span || err != nil {
					t.Fatalf("ReadAt(off %d) = %d, %v", off, n, err)
				}
			}
			el := time.Since(start)
			r.Close()
			ours = max(ours, float64(size)/el.Seconds())
			bw, err := fioRead(path, size, qd)
			if err != nil {
				t.Fatal(err)
			}
			theirs = max(theirs, bw)
		}
		t.Logf("qd %2d: nvmeio %6.0f MB/s, fio %6.0f MB/s, ratio %.2f", qd, ours/1e6, theirs/1e6, ours/theirs)
		if ours < 0.9*theirs {
			t.Errorf("qd %d: nvmeio reads at %.2f of fio's throughput, want >= 0.9", qd, ours/theirs)
		}
	}
}

// fioRead runs one sequential O_DIRECT io_uring read job over the file and returns bytes per second.
func fioRead(path string, size, qd int) (float64, error) {
	out, err := exec.Command("fio", "--name=read", "--filename="+path, "--readonly", "--rw=read", "--bs=1M",
		"--ioengine=io_uring", "--direct=1", "--iodepth="+strconv.Itoa(qd), "--size="+strconv.Itoa(size),
		"--output-format=json").Output()
	if err != nil {
		return 0, fmt.Errorf("fio: %w: %s", err, out)
	}
	var res struct {
		Jobs []struct {
			Read struct {
				BwBytes float64 `json:"bw_bytes"`
			} `json:"read"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Jobs) != 1 {
		return 0, fmt.Errorf("fio output: %v: %.300s", err, out)
	}
	return res.Jobs[0].Read.BwBytes, nil
}
