//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package llama2c

import (
	"errors"
	"os"
)

// mmap is unavailable here; Open falls back to reading the file.
func mmap(*os.File, int) ([]byte, func() error, error) {
	return nil, nil, errors.New("mmap not supported")
}
