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
