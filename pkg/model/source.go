package model

import (
	"errors"
	"fmt"
	"io"

	"github.com/llmboot/llmboot/pkg/model/gguf"
)

// OpenAt describes the GGUF model of size bytes readable through r (an HTTP
// server, a raw device) without mapping or reading its tensors: they carry
// their file Offset and a nil Data, for a streaming loader to fetch. The
// header is read in growing windows until the tensor table parses.
func OpenAt(name string, r io.ReaderAt, size int64, opts Options) (*Model, error) {
	f, err := readHeader(r, size)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	m, err := fromGGUF(f, opts)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	// On a raw device the GGUF is followed by the rest of the disk: the
	// model is the bytes up to its last tensor.
	m.Path, m.FileSize = name, min(size, int64(f.End()))
	m.index()
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	return m, nil
}

// readHeader fetches the smallest prefix of the file that holds the whole
// GGUF header, starting at 64 KiB and growing by what the parser says it
// needs (at least doubling), so a big vocabulary costs a few requests.
func readHeader(r io.ReaderAt, size int64) (*gguf.File, error) {
	want := int64(64 << 10)
	var buf []byte
	for {
		want = min(want, size)
		if int64(len(buf)) < want {
			more := make([]byte, want)
			copy(more, buf)
			if _, err := r.ReadAt(more[len(buf):], int64(len(buf))); err != nil && !(errors.Is(err, io.EOF) && want == size) {
				return nil, fmt.Errorf("reading header bytes %d-%d: %w", len(buf), want-1, err)
			}
			buf = more
		}
		f, err := gguf.ParseHeader(buf, uint64(size))
		var short *gguf.ShortError
		switch {
		case err == nil:
			return f, nil
		case errors.As(err, &short) && want < size:
			want = max(int64(short.Need), 2*want)
		default:
			return nil, err
		}
	}
}

// OpenBytes describes the GGUF model held in b (a model downloaded into
// memory): tensors are views of b.
func OpenBytes(name string, b []byte, opts Options) (*Model, error) {
	f, err := gguf.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	m, err := fromGGUF(f, opts)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	m.Path, m.FileSize = name, int64(len(b))
	m.index()
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	return m, nil
}
