//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Package mmapfile maps model files read-only, shared by the format
// readers (GGUF, llama2.c) so tensors are zero-copy views.
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
