//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Package mmapfile maps model files read-only, shared by the format
// readers (GGUF, llama2.c) so tensors are zero-copy views, and gives the
// loader memory outside the Go heap for weights it repacks.
package mmapfile

import (
	"os"
	"syscall"
)

// Map maps size bytes of f read-only; the returned func unmaps them.
func Map(f *os.File, size int) ([]byte, func() error, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}

// Anon returns size bytes of zeroed private memory outside the Go heap (so
// the garbage collector neither scans it nor lets the heap grow by its
// size before collecting); the returned func unmaps it. The memory is
// advised for transparent huge pages: the kernels stream it once per
// token, and with 4 KiB pages every 4 KiB is a TLB miss and a stop for the
// hardware prefetcher (docs/benchmarks.md has the gain). Where the kernel
// has THP in "madvise" mode, as Debian's, only advised memory gets them.
func Anon(size int) ([]byte, func() error, error) {
	if size == 0 {
		return nil, func() error { return nil }, nil
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, err
	}
	madviseHuge(b)
	return b, func() error { return syscall.Munmap(b) }, nil
}

// Evict tells the kernel that the whole pages inside b, part of a read-only
// file mapping from Map, will not be read soon: they leave the process's
// resident set (the page cache keeps them; a later read faults them back).
// It only changes residency, never contents, and ignores errors: it is
// advice.
func Evict(b []byte) {
	page := uintptr(os.Getpagesize())
	if len(b) == 0 {
		return
	}
	start := uintptr(unsafePointer(b))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	madviseDontNeed(b[lo-start : hi-start])
}
