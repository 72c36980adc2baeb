//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package llama2c

import (
	"os"
	"syscall"
)

// mmap maps size bytes of f read-only; the returned func unmaps them.
func mmap(f *os.File, size int) ([]byte, func() error, error) {
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
