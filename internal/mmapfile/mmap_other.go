//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package mmapfile

import (
	"errors"
	"os"
)

// Map is unavailable on this platform: callers read the file instead.
func Map(*os.File, int) ([]byte, func() error, error) {
	return nil, nil, errors.New("mmap not supported")
}

// Anon falls back to the Go heap here.
func Anon(size int) ([]byte, func() error, error) {
	return make([]byte, size), func() error { return nil }, nil
}

// Evict does nothing without mmap.
func Evict([]byte) {}
