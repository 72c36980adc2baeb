package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/llmboot/llmboot/internal/filesize"
	"github.com/llmboot/llmboot/internal/mmapfile"
)

// mapFile is mmap, replaceable so tests can take the fallback path.
var mapFile = mmapfile.Map

// Open maps the file at path read-only and parses it. Without mmap (an
// unsupported platform, a file system that refuses it) it reads the file
// into memory instead. Close the File to unmap it.
//
// path may name a block device holding a GGUF at offset 0 (a raw NVMe
// namespace): the whole device is mapped, the bytes after the GGUF are
// ignored. A device is never read into memory whole: without mmap it fails.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fh.Close() // a mapping outlives its descriptor
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	device := filesize.IsBlockDevice(st.Mode())
	size, err := filesize.Of(fh)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("gguf: %s: file size %d does not fit in memory", path, size)
	}
	var (
		data  []byte
		unmap func() error
	)
	if size > 0 {
		data, unmap, err = mapFile(fh, int(size))
	}
	if device && err != nil {
		return nil, fmt.Errorf("gguf: %s: cannot map the %d-byte block device: %w", path, size, err)
	}
	if size == 0 || err != nil {
		data = make([]byte, size)
		if _, err := io.ReadFull(fh, data); err != nil {
			return nil, fmt.Errorf("gguf: %s: %w", path, err)
		}
		unmap = nil
	}
	f, err := Parse(data)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Path = path
		}
		return nil, err
	}
	f.closer = unmap
	return f, nil
}
