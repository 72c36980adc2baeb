package loader

import (
	"bytes"
	"io"
)

// Source is where a model's bytes come from when they are not mapped: a
// file or block device read through io_uring, an HTTP server, memory.
type Source interface {
	io.ReaderAt
	Size() int64
	// Name says where the bytes come from, for messages.
	Name() string
	Close() error
}

// bytesSource serves a byte slice: a model downloaded into memory, and tests.
type bytesSource struct {
	name string
	r    *bytes.Reader
}

// BytesSource returns a Source over b.
func BytesSource(name string, b []byte) Source { return &bytesSource{name, bytes.NewReader(b)} }

func (b *bytesSource) ReadAt(p []byte, off int64) (int, error) { return b.r.ReadAt(p, off) }
func (b *bytesSource) Size() int64                             { return b.r.Size() }
func (b *bytesSource) Name() string                            { return b.name }
func (b *bytesSource) Close() error                            { return nil }
