package nvmeio

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadAt reads a 256 MiB file with one ReadAt per iteration, through io_uring and through pread,
// at queue depths 1, 8 and 32 (1 MiB per read):
//   - warm: buffered, the file in the page cache (measures the submission path and the copy);
//   - cold: buffered, page cache dropped before every iteration (needs root; skipped otherwise);
//   - direct: O_DIRECT into an aligned buffer (zero copy, the page cache bypassed).
//
// NVMEIO_BENCH_DIR picks the directory (default: the test's temp dir; tmpfs makes "cold" meaningless).
//
//	go test -run '^$' -bench ReadAt -benchtime 3x ./pkg/nvmeio
func BenchmarkReadAt(b *testing.B) {
	const size = 256 << 20
	dir := os.Getenv("NVMEIO_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "nvmeio-bench.bin")
	if err := writeBenchFile(path, size); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(path)
	buf, err := AlignedBuffer(size, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer FreeAlignedBuffer(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1 // fault the pages in now, not in the first timed iteration
	}

	for _, cache := range []string{"warm", "cold", "direct"} {
		for _, mode := range []string{"io_uring", "pread"} {
			for _, qd := range []int{1, 8, 32} {
				b.Run(fmt.Sprintf("%s/%s/qd%d", cache, mode, qd), func(b *testing.B) {
					r, err := OpenReader(path, ReaderOptions{Direct: cache == "direct", ForcePread: mode == "pread", QueueDepth: qd})
					if err != nil {
						b.Fatal(err)
					}
					defer r.Close()
					if r.Mode() != map[bool]string{true: mode + "+O_DIRECT", false: mode}[cache == "direct"] {
						b.Skipf("mode %s here", r.Mode())
					}
					if cache == "warm" {
						if _, err := r.ReadAt(buf, 0); err != nil {
							b.Fatal(err)
						}
					}
					b.SetBytes(size)
					b.ResetTimer()
					for range b.N {
						if cache == "cold" {
							b.StopTimer()
							if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
								b.Skipf("cannot drop the page cache: %v", err)
							}
							b.StartTimer()
						}
						if n, err := r.ReadAt(buf, 0); n != size || err != nil {
							b.Fatalf("ReadAt = %d, %v", n, err)
						}
					}
				})
			}
		}
	}
}

// writeBenchFile writes size pseudo-random bytes and syncs them, so dropping the cache really empties it.
func writeBenchFile(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	block := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for off := 0; off < size; off += len(block) {
		for i := 0; i < len(block); i += 8 {
			v := rng.Uint64()
			for j := range 8 {
				block[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := f.Write(block); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
