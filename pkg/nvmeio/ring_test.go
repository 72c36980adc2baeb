package nvmeio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestRing returns a ring, or skips the test saying why io_uring is not usable here.
func newTestRing(t testing.TB, entries uint32) *Ring {
	t.Helper()
	r, err := NewRing(RingOptions{Entries: entries})
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("io_uring not usable on this machine (%v): the pread fallback carries the Reader tests", err)
	}
	if err != nil {
		t.Fatalf("NewRing: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// randomFile writes size random bytes to a new file in dir.
func randomFile(t testing.TB, dir string, size int, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	path := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestNewRingHere(t *testing.T) {
	r, err := NewRing(RingOptions{})
	if err != nil {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("NewRing failed with an error that is not ErrUnsupported: %v", err)
		}
		t.Skipf("io_uring unsupported here: %v", err)
	}
	defer r.Close()
	if r.Entries() != 64 {
		t.Errorf("default entries = %d, want 64", r.Entries())
	}
	if !r.ops[opRead] || !r.ops[opReadFixed] {
		t.Errorf("probe says READ %v, READ_FIXED %v; both exist since 5.6", r.ops[opRead], r.ops[opReadFixed])
	}
	t.Logf("io_uring works here: features %#x, single mmap %v, nodrop %v", r.features, r.features&featSingleMmap != 0, r.features&featNoDrop != 0)
}

func TestNewRingEntries(t *testing.T) {
	for _, n := range []uint32{3, 100, maxEntries * 2} {
		if r, err := NewRing(RingOptions{Entries: n}); err == nil {
			r.Close()
			t.Errorf("NewRing(%d entries) succeeded, want an error (not a power of two or too large)", n)
		}
	}
	r := newTestRing(t, 1)
	if r.Entries() != 1 {
		t.Errorf("Entries() = %d, want 1", r.Entries())
	}
}

func TestSetupErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		errno       unix.Errno
		unsupported bool
	}{
		{unix.ENOSYS, true}, {unix.EPERM, true}, {unix.EACCES, true}, {unix.EINVAL, false}, {unix.ENOMEM, false},
	} {
		err := setupError(tc.errno)
		if errors.Is(err, ErrUnsupported) != tc.unsupported {
			t.Errorf("setupError(%v): Is(ErrUnsupported) = %v, want %v", tc.errno, !tc.unsupported, tc.unsupported)
		}
		if !errors.Is(err, tc.errno) {
			t.Errorf("setupError(%v) = %v lost the errno", tc.errno, err)
		}
	}
}

func TestRingClose(t *testing.T) {
	r := newTestRing(t, 4)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := r.ReadBatch([]Read{{FD: 0, Buf: make([]byte, 1), BufIndex: -1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadBatch after Close = %v, want ErrClosed", err)
	}
	if err := r.RegisterBuffers([][]byte{make([]byte, 4096)}); !errors.Is(err, ErrClosed) {
		t.Errorf("RegisterBuffers after Close = %v, want ErrClosed", err)
	}
}

// TestReadBatch mixes registered (READ_FIXED) and ordinary buffers, more reads than ring entries, reads
// ending at and past EOF, and invalid reads, each checked against the file's bytes.
func TestReadBatch(t *testing.T) {
	const size = 1<<20 + 333
	path, data := randomFile(t, t.TempDir(), size, 7)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())

	r := newTestRing(t, 8)
	var fixed [][]byte
	for range 4 {
		b, err := AlignedBuffer(256<<10, 4096)
		if err != nil {
			t.Fatal(err)
		}
		defer FreeAlignedBuffer(b)
		fixed = append(fixed, b)
	}
	heap := make([]byte, 512<<10) // Go heap memory can be registered too
	if err := r.RegisterBuffers(append(fixed, heap[:256<<10])); err != nil {
		t.Fatalf("RegisterBuffers: %v", err)
	}

	rng := rand.New(rand.NewPCG(3, 4))
	var reads []Read
	type want struct {
		n   int
		err error
	}
	var wants []want
	add := func(rd Read, w want) { reads = append(reads, rd); wants = append(wants, w) }
	var cursor [5]int // reads in flight together must not share bytes: each takes the next region
	region := func(bi, n int) []byte {
		reg := heap[:256<<10]
		if bi < 4 {
			reg = fixed[bi]
		}
		start := cursor[bi] + rng.IntN(100)
		cursor[bi] = start + n
		return reg[start : start+n]
	}
	for i := range 40 {
		off := rng.Int64N(size - 200<<10)
		switch i % 3 {
		case 0: // registered, somewhere inside buffer i%5
			n := 1 + rng.IntN(60<<10)
			add(Read{FD: fd, Off: off, Buf: region(i%5, n), BufIndex: i % 5}, want{n, nil})
		default:
			n := 1 + rng.IntN(200<<10)
			add(Read{FD: fd, Off: off, Buf: make([]byte, n), BufIndex: -1}, want{n, nil})
		}
	}
	add(Read{FD: fd, Off: size - 100, Buf: region(0, 1000), BufIndex: 0}, want{100, io.EOF})
	add(Read{FD: fd, Off: size + 5, Buf: make([]byte, 10), BufIndex: -1}, want{0, io.EOF})
	add(Read{FD: fd, Off: 0, Buf: nil, BufIndex: -1}, want{0, nil})
	firstBad := len(reads)
	add(Read{FD: fd, Off: 0, Buf: make([]byte, 10), BufIndex: 9}, want{0, errors.New("no such registered buffer")})
	add(Read{FD: fd, Off: 0, Buf: make([]byte, 10), BufIndex: 0}, want{0, errors.New("buffer outside registered buffer 0")})
	add(Read{FD: fd, Off: -1, Buf: make([]byte, 10), BufIndex: -1}, want{0, errors.New("negative offset")})
	add(Read{FD: 1 << 20, Off: 0, Buf: make([]byte, 10), BufIndex: -1}, want{0, unix.EBADF})

	err = r.ReadBatch(reads)
	if !errors.Is(err, io.EOF) {
		t.Errorf("ReadBatch returned %v, want the first error in slice order, io.EOF", err)
	}
	for i, rd := range reads {
		w := wants[i]
		if rd.N != w.n {
			t.Errorf("read %d (off %d len %d idx %d): N = %d, want %d", i, rd.Off, len(rd.Buf), rd.BufIndex, rd.N, w.n)
		}
		switch {
		case w.err == nil && rd.Err != nil:
			t.Errorf("read %d: Err = %v, want nil", i, rd.Err)
		case w.err == io.EOF || w.err == unix.EBADF:
			if !errors.Is(rd.Err, w.err) {
				t.Errorf("read %d: Err = %v, want %v", i, rd.Err, w.err)
			}
		case w.err != nil && rd.Err == nil:
			t.Errorf("read %d (%v): Err = nil, want an error", i, w.err)
		}
		if i < firstBad && rd.Off >= 0 && rd.Off < size && rd.N > 0 {
			if !bytes.Equal(rd.Buf[:rd.N], data[rd.Off:rd.Off+int64(rd.N)]) {
				t.Errorf("read %d (off %d len %d idx %d): bytes differ from the file", i, rd.Off, len(rd.Buf), rd.BufIndex)
			}
		}
	}

	// The ring is reusable after per-read errors, and unregistering works.
	if err := r.RegisterBuffers(nil); err != nil {
		t.Fatalf("unregistering: %v", err)
	}
	again := []Read{{FD: fd, Off: 10, Buf: make([]byte, 100), BufIndex: -1}}
	if err := r.ReadBatch(again); err != nil || !bytes.Equal(again[0].Buf, data[10:110]) {
		t.Errorf("read after errors and unregistering: err %v, bytes equal %v", err, bytes.Equal(again[0].Buf, data[10:110]))
	}
}

// TestReadBatchShortReads reads from a pipe, where the kernel really returns short reads: the rest is
// resubmitted until the buffer is full or the writer closes (io.EOF).
func TestReadBatchShortReads(t *testing.T) {
	r := newTestRing(t, 4)
	for _, tc := range []struct {
		name   string
		pieces int
		want   int
		err    error
	}{
		{"filled by four writes", 4, 4000, nil},
		{"writer closes after two", 2, 2000, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			msg := bytes.Repeat([]byte("0123456789"), 400)
			go func() {
				for i := range tc.pieces {
					time.Sleep(20 * time.Millisecond)
					pw.Write(msg[i*1000 : (i+1)*1000])
				}
				pw.Close()
			}()
			reads := []Read{{FD: int(pr.Fd()), Off: 0, Buf: make([]byte, 4000), BufIndex: -1}}
			err = r.ReadBatch(reads)
			if reads[0].N != tc.want || !errors.Is(reads[0].Err, tc.err) && reads[0].Err != tc.err {
				t.Fatalf("N = %d Err = %v, want %d, %v", reads[0].N, reads[0].Err, tc.want, tc.err)
			}
			if err != reads[0].Err {
				t.Errorf("ReadBatch returned %v, want the read's error %v", err, reads[0].Err)
			}
			if !bytes.Equal(reads[0].Buf[:reads[0].N], msg[:tc.want]) {
				t.Errorf("bytes differ from what was written")
			}
		})
	}
}

// TestRingFailsCleanly replaces the ring's fd with /dev/null under it, so io_uring_enter fails: the
// batch must return that error (not hang, not report success), and the ring then refuses more work,
// since the kernel may still hold the read it never heard back about.
func TestRingFailsCleanly(t *testing.T) {
	r := newTestRing(t, 4)
	devnull, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(devnull)
	if err := unix.Dup2(devnull, r.fd); err != nil {
		t.Fatal(err)
	}
	path, _ := randomFile(t, t.TempDir(), 4096, 5)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reads := []Read{{FD: int(f.Fd()), Off: 0, Buf: make([]byte, 4096), BufIndex: -1}}
	err = r.ReadBatch(reads)
	if err == nil || reads[0].Err == nil || reads[0].N != 0 {
		t.Fatalf("ReadBatch on a ring whose fd is /dev/null = %v (read: %d, %v), want an error", err, reads[0].N, reads[0].Err)
	}
	t.Logf("first batch: %v", err)
	if err2 := r.ReadBatch(reads); err2 == nil {
		t.Errorf("second batch on a failed ring succeeded")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close of a failed ring: %v", err)
	}
}
