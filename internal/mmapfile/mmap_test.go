package mmapfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEvictKeepsContents maps a file, reads it, evicts the mapping and
// reads it again: eviction changes residency only.
func TestEvictKeepsContents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := make([]byte, 5*os.Getpagesize()+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, unmap, err := Map(f, len(want))
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unmap()
	for _, part := range [][]byte{b, b[1:], b[100 : len(b)-1], b[:10], nil} {
		Evict(part)
		if string(b) != string(want) {
			t.Fatal("mapping changed after Evict")
		}
	}
}

func TestAnon(t *testing.T) {
	b, free, err := Anon(3 << 20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		if b[i] != 0 {
			t.Fatalf("byte %d is %d, want zeroed memory", i, b[i])
		}
	}
	b[len(b)-1] = 1
	if err := free(); err != nil {
		t.Fatal(err)
	}
	if b, free, err := Anon(0); err != nil || len(b) != 0 || free() != nil {
		t.Fatalf("Anon(0) = %d bytes, %v", len(b), err)
	}
}
