package nvmeio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rangeCase is one ReadAt: offset and length.
type rangeCase struct{ off, n int64 }

// readRanges are the (offset, length) pairs every Reader configuration is checked with: unaligned, on
// and across block and BlockSize boundaries, at and past EOF, and random ones.
func readRanges(size, blockSize int64, seed uint64) []rangeCase {
	rs := []rangeCase{
		{0, 0}, {0, 1}, {1, 1}, {511, 2}, {512, 512}, {4095, 4097}, {4096, 4096}, {100, 10000},
		{blockSize - 1, 2}, {blockSize - 100, 2*blockSize + 200}, {blockSize, blockSize}, {3*blockSize + 17, blockSize - 17},
		{0, size}, {0, size + 100}, {1, size - 2}, {size - 1, 1}, {size - 5, 100}, {size - 4096, 4096},
		{size, 1}, {size, 0}, {size + 4096, 10}, {size / 4096 * 4096, 4096},
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	for range 40 {
		off := rng.Int64N(size + 10)
		n := rng.Int64N(3 * blockSize)
		if rng.IntN(4) == 0 {
			n = rng.Int64N(600)
		}
		rs = append(rs, rangeCase{off, n})
	}
	return rs
}

// checkReadAt compares r.ReadAt with os.File.ReadAt for one range, into a buffer that is either
// congruent with the offset (zero-copy O_DIRECT) or deliberately misaligned.
func checkReadAt(t *testing.T, r *Reader, f *os.File, rc rangeCase, congruent bool) {
	t.Helper()
	want := make([]byte, rc.n)
	wn, werr := f.ReadAt(want, rc.off)

	var got []byte
	if congruent {
		a := int64(max(r.Alignment(), 4096))
		mem, err := AlignedBuffer(int(rc.n+a), int(a))
		if err != nil {
			t.Fatal(err)
		}
		defer FreeAlignedBuffer(mem)
		got = mem[rc.off%a : rc.off%a+rc.n]
	} else {
		mem := make([]byte, rc.n+8)
		got = mem[3 : 3+rc.n]
	}
	gn, gerr := r.ReadAt(got, rc.off)
	if gn != wn || (gerr == nil) != (werr == nil) || (werr == io.EOF) != (gerr == io.EOF) {
		t.Fatalf("%s ReadAt(len %d, off %d) congruent=%v = %d, %v; os.File gives %d, %v", r.Mode(), rc.n, rc.off, congruent, gn, gerr, wn, werr)
	}
	if !bytes.Equal(got[:gn], want[:wn]) {
		i := 0
		for i < gn && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s ReadAt(len %d, off %d) congruent=%v: bytes differ from os.File first at %d", r.Mode(), rc.n, rc.off, congruent, i)
	}
}

// checkMode accepts the mode asked for, or a fallback from it announced by exactly one log line per
// fallback: io_uring to pread (io_uring unavailable here), O_DIRECT to buffered (tmpfs before 6.6).
func checkMode(t *testing.T, got, want string, logs []string) {
	t.Helper()
	fallbacks := 0
	if strings.HasPrefix(want, "io_uring") && strings.HasPrefix(got, "pread") {
		fallbacks++
		want = "pread" + strings.TrimPrefix(want, "io_uring")
	}
	if strings.HasSuffix(want, "+O_DIRECT") && !strings.HasSuffix(got, "+O_DIRECT") {
		fallbacks++
		want = strings.TrimSuffix(want, "+O_DIRECT")
	}
	if got != want || len(logs) != fallbacks {
		t.Fatalf("Mode() = %q with log lines %q; want %q with one line per fallback", got, logs, want)
	}
	for _, l := range logs {
		t.Logf("fell back: %s", l)
	}
}

// TestReaderMatchesFile checks every mode (io_uring or pread, O_DIRECT or buffered) at several queue
// depths and block sizes against os.File.ReadAt on a file of random bytes with an unaligned size.
func TestReaderMatchesFile(t *testing.T) {
	const size = 3<<20 + 1237
	path, _ := randomFile(t, t.TempDir(), size, 1)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	for _, mode := range []struct {
		name  string
		opts  ReaderOptions
		wants string
	}{
		{"uring", ReaderOptions{}, "io_uring"},
		{"uring-direct", ReaderOptions{Direct: true}, "io_uring+O_DIRECT"},
		{"pread", ReaderOptions{ForcePread: true}, "pread"},
		{"pread-direct", ReaderOptions{Direct: true, ForcePread: true}, "pread+O_DIRECT"},
	} {
		qds := []int{1, 3, 8, 64}
		if testing.Short() {
			qds = []int{1, 8}
		}
		for _, qd := range qds {
			for _, bs := range []int{12 << 10, 1 << 20} {
				t.Run(fmt.Sprintf("%s/qd%d/bs%d", mode.name, qd, bs), func(t *testing.T) {
					opts := mode.opts
					opts.QueueDepth, opts.BlockSize = qd, bs
					var logs []string
					opts.Log = func(s string) { logs = append(logs, s) }
					r, err := OpenReader(path, opts)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					checkMode(t, r.Mode(), mode.wants, logs)
					if r.Size() != size {
						t.Fatalf("Size() = %d, want %d", r.Size(), size)
					}
					for _, rc := range readRanges(size, int64(r.BlockSize()), uint64(qd*bs)) {
						checkReadAt(t, r, f, rc, false)
						checkReadAt(t, r, f, rc, true)
					}
				})
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	path, _ := randomFile(t, t.TempDir(), 10000, 2)
	if _, err := OpenReader(path+".missing", ReaderOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReader of a missing file = %v, want ErrNotExist", err)
	}
	r, err := OpenReader(path, ReaderOptions{Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 4), -1); err == nil {
		t.Errorf("ReadAt at a negative offset succeeded")
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.ReadAt(make([]byte, 4), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close = %v, want ErrClosed", err)
	}
}

// TestReaderDirectTmpfs opens a file on tmpfs with Direct: tmpfs refuses O_DIRECT before Linux 6.6
// (EINVAL at open), so the Reader must either do O_DIRECT or fall back to buffered reads with one log
// line, and read the right bytes either way.
func TestReaderDirectTmpfs(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "nvmeio-test")
	if err != nil {
		t.Skipf("cannot write to /dev/shm: %v", err)
	}
	defer os.RemoveAll(dir)
	path, _ := randomFile(t, dir, 1<<20+77, 3)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var logs []string
	r, err := OpenReader(path, ReaderOptions{Direct: true, BlockSize: 64 << 10, Log: func(s string) { logs = append(logs, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	switch {
	case strings.HasSuffix(r.Mode(), "+O_DIRECT"):
		if len(logs) != 0 {
			t.Errorf("O_DIRECT works but the Reader logged %q", logs)
		}
	case len(logs) == 0:
		t.Errorf("Mode %q without O_DIRECT and no log line saying why", r.Mode())
	}
	t.Logf("tmpfs with Direct: mode %s, logs %q", r.Mode(), logs)
	for _, rc := range readRanges(r.Size(), int64(r.BlockSize()), 9) {
		checkReadAt(t, r, f, rc, false)
	}
}

// TestReaderConcurrent reads from several goroutines at once (run with -race).
func TestReaderConcurrent(t *testing.T) {
	const size = 2<<20 + 999
	path, data := randomFile(t, t.TempDir(), size, 4)
	for _, opts := range []ReaderOptions{{Direct: true, QueueDepth: 8, BlockSize: 64 << 10}, {ForcePread: true, QueueDepth: 4, BlockSize: 64 << 10}} {
		r, err := OpenReader(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 5))
				for range 50 {
					off := rng.Int64N(size)
					buf := make([]byte, rng.IntN(300<<10))
					n, err := r.ReadAt(buf, off)
					want := min(int64(len(buf)), size-off)
					if int64(n) != want || (err != nil && !(err == io.EOF && want < int64(len(buf)))) {
						errs <- fmt.Errorf("%s ReadAt(len %d, off %d) = %d, %v", r.Mode(), len(buf), off, n, err)
						return
					}
					if !bytes.Equal(buf[:n], data[off:off+int64(n)]) {
						errs <- fmt.Errorf("%s ReadAt(len %d, off %d): wrong bytes", r.Mode(), len(buf), off)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		r.Close()
	}
}

// TestReaderLoopDevice reads a real block device: a loop device with 4096-byte sectors over a file, so
// the size comes from seeking (stat says 0) and the alignment from BLKSSZGET. Needs root and losetup.
func TestReaderLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for losetup")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("no losetup")
	}
	const size = 4 << 20
	path, data := randomFile(t, t.TempDir(), size, 6)
	out, err := exec.Command("losetup", "--find", "--show", "--sector-size", "4096", "--read-only", path).CombinedOutput()
	if err != nil {
		t.Skipf("losetup cannot attach a loop device here: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup --detach %s: %v: %s", dev, err, out)
		}
	})
	for _, opts := range []ReaderOptions{{Direct: true, QueueDepth: 8, BlockSize: 256 << 10}, {Direct: true, ForcePread: true}} {
		r, err := OpenReader(dev, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Size() != size || r.Alignment() != 4096 || !strings.HasSuffix(r.Mode(), "+O_DIRECT") {
			t.Errorf("%s: Size %d Alignment %d Mode %s, want %d, 4096, O_DIRECT", dev, r.Size(), r.Alignment(), r.Mode(), size)
		}
		f := bytes.NewReader(data)
		for _, rc := range readRanges(size, int64(r.BlockSize()), 11) {
			if rc.n == 0 {
				continue // bytes.Reader answers io.EOF for an empty read at the end; os.File and Reader nil
			}
			for _, congruent := range []bool{false, true} {
				want := make([]byte, rc.n)
				wn, werr := f.ReadAt(want, rc.off)
				got := make([]byte, rc.n+4096)
				if congruent {
					got = got[(rc.off-int64(uintptr(unsafe.Pointer(&got[0]))))&4095:][:rc.n]
				} else {
					got = got[(rc.off-int64(uintptr(unsafe.Pointer(&got[0])))+1)&4095:][:rc.n]
				}
				gn, gerr := r.ReadAt(got, rc.off)
				if gn != wn || (gerr == nil) != (werr == nil) || !bytes.Equal(got[:gn], want[:wn]) {
					t.Fatalf("%s %s ReadAt(len %d, off %d) = %d, %v; want %d, %v (or bytes differ)", dev, r.Mode(), rc.n, rc.off, gn, gerr, wn, werr)
				}
			}
		}
		r.Close()
	}
}

// TestPreadFallbackUnderSeccomp runs a child test process in which a seccomp filter makes io_uring_setup
// fail with EPERM, as container runtimes do: the Reader must fall back to pread with one log line.
func TestPreadFallbackUnderSeccomp(t *testing.T) {
	if os.Getenv("NVMEIO_SECCOMP_CHILD") == "1" {
		seccompChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPreadFallbackUnderSeccomp$", "-test.v")
	cmd.Env = append(os.Environ(), "NVMEIO_SECCOMP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "fallback ok") {
		t.Fatalf("child did not run the check:\n%s", out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "fallback ok") || strings.Contains(l, "log line") {
			t.Log(strings.TrimSpace(l))
		}
	}
}

func seccompChild(t *testing.T) {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_NO_NEW_PRIVS: %v", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		t.Skipf("cannot install a seccomp filter: %v", errno)
	}
	if _, err := NewRing(RingOptions{}); !errors.Is(err, ErrUnsupported) || !errors.Is(err, unix.EPERM) {
		t.Fatalf("NewRing under seccomp = %v, want ErrUnsupported wrapping EPERM", err)
	}
	const size = 1<<20 + 5
	path, _ := randomFile(t, t.TempDir(), size, 8)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var logs []string
	r, err := OpenReader(path, ReaderOptions{Direct: true, QueueDepth: 4, BlockSize: 64 << 10, Log: func(s string) { logs = append(logs, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// O_DIRECT may fall back too (tmpfs before 6.6); io_uring must.
	checkMode(t, r.Mode(), "io_uring+O_DIRECT", logs)
	if !strings.HasPrefix(r.Mode(), "pread") || !strings.Contains(logs[len(logs)-1], "io_uring unavailable") {
		t.Fatalf("under seccomp: Mode %q, logs %q; want pread and a line about io_uring", r.Mode(), logs)
	}
	for _, rc := range readRanges(size, int64(r.BlockSize()), 12) {
		checkReadAt(t, r, f, rc, false)
		checkReadAt(t, r, f, rc, true)
	}
	t.Logf("log line: %s", logs[len(logs)-1])
	t.Logf("fallback ok: mode %s", r.Mode())
}

// TestReaderZeroCopy checks that O_DIRECT reads into congruent buffers need no bounce pool (only the two
// small edge buffers), that other buffers get the pool, and that the bounce buffers are registered for
// READ_FIXED when io_uring is in use.
func TestReaderZeroCopy(t *testing.T) {
	const size = 2<<20 + 100
	path, data := randomFile(t, t.TempDir(), size, 10)
	r, err := OpenReader(path, ReaderOptions{Direct: true, QueueDepth: 4, BlockSize: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !strings.HasSuffix(r.Mode(), "+O_DIRECT") {
		t.Skipf("no O_DIRECT on the temp directory's file system (mode %s)", r.Mode())
	}
	a := int64(r.Alignment())
	mem, err := AlignedBuffer(size+int(a), int(a))
	if err != nil {
		t.Fatal(err)
	}
	defer FreeAlignedBuffer(mem)
	for _, rc := range []rangeCase{{0, size}, {777, 1 << 20}, {a, 3 * a}, {size - 10, 10}} {
		p := mem[rc.off%a : rc.off%a+rc.n]
		if n, err := r.ReadAt(p, rc.off); n != int(rc.n) || err != nil || !bytes.Equal(p, data[rc.off:rc.off+rc.n]) {
			t.Fatalf("congruent ReadAt(len %d, off %d) = %d, %v (or wrong bytes)", rc.n, rc.off, n, err)
		}
	}
	if r.poolMem != nil {
		t.Errorf("congruent reads allocated the bounce pool")
	}
	// Window places a read in any buffer, heap or not, where it needs no copy.
	heap := make([]byte, 300<<10+int(a))
	for _, rc := range []rangeCase{{123, 300 << 10}, {a, 5}, {size - 7, 7}} {
		w := r.Window(heap, rc.off, int(rc.n))
		if len(w) != int(rc.n) {
			t.Fatalf("Window(len %d, off %d, n %d) has %d bytes", len(heap), rc.off, rc.n, len(w))
		}
		if n, err := r.ReadAt(w, rc.off); n != int(rc.n) || err != nil || !bytes.Equal(w, data[rc.off:rc.off+rc.n]) {
			t.Fatalf("ReadAt(Window, off %d) = %d, %v (or wrong bytes)", rc.off, n, err)
		}
	}
	if w := r.Window(heap[:100], 1, 100); w != nil {
		t.Errorf("Window of a buffer without room for alignment returned %d bytes", len(w))
	}
	if r.poolMem != nil {
		t.Errorf("reads into Window slices allocated the bounce pool")
	}
	p := mem[1 : 1+1000]
	if n, err := r.ReadAt(p, 4096); n != 1000 || err != nil || !bytes.Equal(p, data[4096:5096]) {
		t.Fatalf("misaligned ReadAt = %d, %v (or wrong bytes)", n, err)
	}
	if r.poolMem == nil || len(r.pool) != 4 {
		t.Errorf("misaligned read: pool of %d buffers, want 4", len(r.pool))
	}
	if r.ring != nil && len(r.fixedIdx) != 4+2 {
		t.Errorf("%d bounce buffers registered for READ_FIXED, want 6", len(r.fixedIdx))
	}
}

// TestReaderBlockDevice reads a real block device named by NVMEIO_TEST_DEVICE (an NVMe namespace in the
// QEMU harness, e.g. /dev/nvme0n1) in each mode and compares with os.File.ReadAt of the same device; an
// NVMe namespace must also be listed by Devices with the same size and logical block size.
func TestReaderBlockDevice(t *testing.T) {
	dev := os.Getenv("NVMEIO_TEST_DEVICE")
	if dev == "" {
		t.Skip("set NVMEIO_TEST_DEVICE to a block device to read (its contents are only read)")
	}
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, mode := range []struct {
		opts  ReaderOptions
		wants string
	}{
		{ReaderOptions{Direct: true, QueueDepth: 8, BlockSize: 256 << 10}, "io_uring+O_DIRECT"},
		{ReaderOptions{Direct: true, ForcePread: true, QueueDepth: 4}, "pread+O_DIRECT"},
		{ReaderOptions{QueueDepth: 32}, "io_uring"},
	} {
		var logs []string
		mode.opts.Log = func(s string) { logs = append(logs, s) }
		r, err := OpenReader(dev, mode.opts)
		if err != nil {
			t.Fatal(err)
		}
		checkMode(t, r.Mode(), mode.wants, logs)
		t.Logf("%s: size %d, alignment %d, mode %s", dev, r.Size(), r.Alignment(), r.Mode())
		if name := strings.TrimPrefix(dev, "/dev/"); strings.HasPrefix(name, "nvme") && mode.opts.Direct {
			ctrls, err := Devices("/sys")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range ctrls {
				for _, ns := range c.Namespaces {
					if ns.Path == dev {
						found = true
						if ns.Size != r.Size() || ns.LogicalBlockSize != r.Alignment() {
							t.Errorf("Devices says %s has %d bytes in blocks of %d; the Reader sees %d and %d", dev, ns.Size, ns.LogicalBlockSize, r.Size(), r.Alignment())
						}
						t.Logf("Devices: %s %q serial %q firmware %q: %+v", c.Name, c.Model, c.Serial, c.Firmware, ns)
					}
				}
			}
			if !found {
				t.Errorf("Devices(/sys) does not list %s: %+v", dev, ctrls)
			}
		}
		size := r.Size()
		for _, rc := range readRanges(size, int64(r.BlockSize()), 13) {
			checkReadAt(t, r, f, rc, false)
			checkReadAt(t, r, f, rc, true)
		}
		r.Close()
	}
}
