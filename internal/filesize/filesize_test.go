package filesize

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestOfRegularFile(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 1<<20 + 7} {
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Of(f)
		if err != nil || got != int64(n) {
			t.Errorf("Of(%d-byte file) = %d, %v", n, got, err)
		}
		// The block-device path on the same file: no loop devices here, and
		// SEEK_END means the same for both.
		if _, err := f.Seek(3, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err = seekEnd(f)
		if err != nil || got != int64(n) {
			t.Errorf("seekEnd(%d-byte file) = %d, %v", n, got, err)
		}
		if pos, _ := f.Seek(0, io.SeekCurrent); pos != 0 {
			t.Errorf("seekEnd left the offset at %d, want 0", pos)
		}
		f.Close()
	}
}

func TestIsBlockDevice(t *testing.T) {
	for _, c := range []struct {
		mode os.FileMode
		want bool
	}{
		{0o644, false},
		{os.ModeDir | 0o755, false},
		{os.ModeDevice | 0o660, true},
		{os.ModeDevice | os.ModeCharDevice | 0o666, false},
		{os.ModeNamedPipe, false},
	} {
		if got := IsBlockDevice(c.mode); got != c.want {
			t.Errorf("IsBlockDevice(%v) = %v, want %v", c.mode, got, c.want)
		}
	}
}

// TestOfDevice runs where a block device is readable (root on a Linux host
// with a disk); it skips elsewhere.
func TestOfDevice(t *testing.T) {
	for _, dev := range []string{"/dev/vda", "/dev/sda", "/dev/nvme0n1"} {
		f, err := os.Open(dev)
		if err != nil {
			continue
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !IsBlockDevice(st.Mode()) {
			continue
		}
		size, err := Of(f)
		if err != nil {
			t.Fatalf("%s: %v", dev, err)
		}
		if size <= 0 || size%512 != 0 {
			t.Errorf("%s: size %d, want a positive multiple of 512", dev, size)
		}
		t.Logf("%s: %d bytes (stat says %d)", dev, size, st.Size())
		return
	}
	t.Skip("no readable block device")
}
