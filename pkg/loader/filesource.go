package loader

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/nvmeio"
)

// FileOptions tune a file or block-device source.
type FileOptions struct {
	Direct     bool // O_DIRECT: bypass the page cache (a model bigger than RAM would thrash it)
	ForcePread bool
	Log        func(string)
}

// fileSource reads a file or block device through our io_uring (pread where
// io_uring is missing or forbidden).
type fileSource struct {
	path string
	r    *nvmeio.Reader
}

// OpenFile opens path (a file, or a raw device such as /dev/nvme0n1 holding
// a GGUF at offset 0) as a Source.
func OpenFile(path string, opts FileOptions) (Source, error) {
	r, err := nvmeio.OpenReader(path, nvmeio.ReaderOptions{Direct: opts.Direct, QueueDepth: 8, Log: opts.Log, ForcePread: opts.ForcePread})
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return &fileSource{path: path, r: r}, nil
}

func (f *fileSource) ReadAt(p []byte, off int64) (int, error) { return f.r.ReadAt(p, off) }
func (f *fileSource) Size() int64                             { return f.r.Size() }
func (f *fileSource) Name() string                            { return f.path }
func (f *fileSource) Close() error                            { return f.r.Close() }

// Mode says how bytes are read: "io_uring+O_DIRECT", "io_uring" or "pread".
func (f *fileSource) Mode() string { return f.r.Mode() }
