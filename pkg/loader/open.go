package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/llmboot/llmboot/internal/mmapfile"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
)

// Options choose and tune how Open loads a model.
type Options struct {
	Strategy      Strategy
	MemLimit      int64 // 0: no limit beyond what the system reports
	TokenizerPath string
	// KVBytes tells the KV cache size for a model's hyper-parameters (it
	// depends on the context the caller will use).
	KVBytes func(model.Config) int64
	Slots   int    // streaming ring size (default 3)
	SHA256  string // expected digest of the file, hex; verified before use
	Explain io.Writer
	// Progress receives progress lines while loading (nil: quiet).
	Progress io.Writer
	// Direct asks the file source for O_DIRECT reads when streaming.
	Direct bool
	Log    func(string)
	HTTP   HTTPOptions
	// RowMajor keeps resident matrices in the file's layout (see
	// MemoryOptions); streamed layers always are.
	RowMajor bool
}

// Loaded is an open model with the weights a strategy serves.
type Loaded struct {
	// Model describes the file. Its tensor bytes are the file's, except
	// when a device or URL was read into memory: then the matrices the
	// resident weights repacked (MemoryOptions.InPlace) hold their repacked layout.
	Model   *model.Model
	Weights llm.Weights
	Plan    Plan
	Source  string // how bytes are read: "mmap", "io_uring+O_DIRECT", "http", ...
	closers []io.Closer
}

// Close releases the weights, the model and the source.
func (l *Loaded) Close() error {
	var first error
	for i := len(l.closers) - 1; i >= 0; i-- {
		if err := l.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// IsURL reports whether spec names a model on a web server.
func IsURL(spec string) bool {
	return strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://")
}

// Open loads the model named by spec (a path, a block device, or an
// http(s) URL) with the strategy opts ask for, or the one the plan table
// picks when that is auto.
func Open(spec string, opts Options) (*Loaded, error) {
	if opts.Slots <= 0 {
		opts.Slots = 3
	}
	if opts.KVBytes == nil {
		opts.KVBytes = func(model.Config) int64 { return 0 }
	}
	var src Source
	var err error
	streaming := StrategyNVMe
	if IsURL(spec) {
		streaming = StrategyNetwork
		h := opts.HTTP
		if h.Log == nil {
			h.Log = opts.Log
		}
		if src, err = OpenHTTP(spec, h); err != nil {
			return nil, err
		}
	} else {
		if opts.Strategy == StrategyMemory && opts.SHA256 == "" {
			return openMapped(spec, opts)
		}
		if src, err = OpenFile(spec, FileOptions{Direct: opts.Direct, Log: opts.Log}); err != nil {
			return nil, err
		}
	}
	// A regular file is mapped when it is to be resident (zero copy); a
	// device or a URL is read into memory.
	mappable := false
	if !IsURL(spec) {
		if st, err := os.Stat(spec); err == nil && st.Mode().IsRegular() {
			mappable = true
		}
	}
	l, err := openSource(spec, src, streaming, mappable, opts)
	if err != nil {
		src.Close()
		return nil, err
	}
	return l, nil
}

// openMapped is the memory strategy on a local file: mmap, as before any
// plan (llama2.c checkpoints always take this path).
func openMapped(path string, opts Options) (*Loaded, error) {
	m, err := model.Open(path, model.Options{TokenizerPath: opts.TokenizerPath})
	if err != nil {
		return nil, err
	}
	// A file in RAM (tmpfs, the initramfs) cannot give its pages back once
	// copied: repacking there would hold the repacked matrices twice, which
	// the plan did not count. Its layout is used as it is.
	rowMajor := opts.RowMajor
	if !rowMajor && ramBacked(path) {
		rowMajor = true
		if opts.Log != nil {
			opts.Log(fmt.Sprintf("%s is on a RAM-backed file system: weights used in the file's layout, not repacked", path))
		}
	}
	w, err := MemoryWith(m, MemoryOptions{RowMajor: rowMajor})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Loaded{Model: m, Weights: w, Plan: Plan{Strategy: StrategyMemory, Feasible: true}, Source: "mmap", closers: []io.Closer{m, w}}, nil
}

func openSource(spec string, src Source, streaming Strategy, mappable bool, opts Options) (*Loaded, error) {
	var magic [4]byte
	if _, err := src.ReadAt(magic[:], 0); err != nil {
		return nil, fmt.Errorf("%s: reading the first bytes: %w", spec, err)
	}
	if string(magic[:]) != "GGUF" {
		if IsURL(spec) {
			return nil, fmt.Errorf("%s: not a GGUF file: only GGUF models can be loaded over the network", spec)
		}
		// A llama2.c checkpoint: no tensor table to stream by, mapped whole.
		src.Close()
		return openMapped(spec, opts)
	}
	hdr, err := model.OpenAt(spec, src, src.Size(), model.Options{TokenizerPath: opts.TokenizerPath})
	if err != nil {
		return nil, err
	}
	in := inputs(hdr, opts)
	in.Streaming = streaming
	if opts.Strategy == StrategyAuto || opts.Explain != nil {
		if in.SourceBW, err = ProbeSource(src, 32<<20); err != nil {
			return nil, err
		}
		in.MemoryBW = ProbeMemory()
	}
	plans := Plans(in)
	chosen, err := Choose(opts.Strategy, plans)
	if opts.Explain != nil {
		Explain(opts.Explain, plans, chosen, in)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	// hdr.FileSize is the GGUF's own length: on a raw device the bytes after
	// it are the rest of the disk, never read.
	if opts.SHA256 != "" && chosen.Strategy != StrategyMemory {
		if err := verify(src, hdr.FileSize, opts.SHA256, NewProgress(opts.Progress, "verifying sha256")); err != nil {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
	}
	if chosen.Strategy == StrategyMemory {
		if mappable && opts.SHA256 == "" {
			src.Close()
			l, err := openMapped(spec, opts)
			if l != nil {
				l.Plan = chosen
			}
			return l, err
		}
		return readWhole(spec, src, hdr.FileSize, chosen, opts)
	}
	budget := max(0, in.Available-in.StreamBytes-in.KVBytes-Overhead)
	prog := NewProgress(opts.Progress, "first pass over the weights")
	s, err := Stream(hdr, src, StreamOptions{Slots: in.Slots, OutputBudget: budget / 2, Progress: func(done, total int64) {
		prog.Update(min(done, total), total)
	}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return &Loaded{Model: hdr, Weights: s, Plan: chosen, Source: sourceKind(src), closers: []io.Closer{src, s}}, nil
}

func sourceKind(src Source) string {
	if k, ok := src.(interface{ Mode() string }); ok {
		return k.Mode()
	}
	if _, ok := src.(*HTTPSource); ok {
		return "http range requests"
	}
	return "reads"
}

// inputs computes the sizes a plan needs from the model's tensor table.
func inputs(m *model.Model, opts Options) Inputs {
	in := Inputs{FileBytes: m.FileSize}
	if opts.KVBytes != nil {
		in.KVBytes = opts.KVBytes(m.Config)
	}
	in.Available, in.AvailableFrom = Available(opts.MemLimit)
	var maxLayer int64
	for i := 0; i < m.Config.Layers; i++ {
		var n int64
		for _, part := range model.LayerParts {
			if t, ok := m.Tensor(model.LayerTensor(i, part)); ok {
				n += tensorBytes(t)
			}
		}
		maxLayer = max(maxLayer, n)
		in.PassBytes += n
	}
	out, ok := m.Tensor(model.Output)
	if !ok {
		out, _ = m.Tensor(model.TokenEmbd)
	}
	in.PassBytes += tensorBytes(out)
	// Fewer buffers (down to 2: one computing, one loading) when memory is
	// short: less read-ahead, the same tokens.
	per := max(maxLayer, tensorBytes(out))
	in.Slots = max(opts.Slots, 2)
	for in.Slots > 2 && int64(in.Slots)*per+in.KVBytes+Overhead > in.Available {
		in.Slots--
	}
	in.StreamBytes = int64(in.Slots) * per
	return in
}

// readWhole is the memory strategy for a device or network source: every
// byte read into RAM (hashed on the way when a digest is given), then used
// as a mapped file would be.
func readWhole(spec string, src Source, size int64, plan Plan, opts Options) (_ *Loaded, err error) {
	// Outside the Go heap and in huge pages where the kernel has them
	// (mmapfile.Anon), as repacked weights are.
	buf, free, err := mmapfile.Anon(int(size))
	if err != nil {
		return nil, fmt.Errorf("%s: %s of memory to read the model into: %w", spec, FormatBytes(size), err)
	}
	defer func() {
		if err != nil {
			free()
		}
	}()
	h := sha256.New()
	prog := NewProgress(opts.Progress, "loading into memory")
	const step = 64 << 20
	for off := int64(0); off < size; off += step {
		n := min(step, size-off)
		if _, err := src.ReadAt(buf[off:off+n], off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", spec, err)
		}
		h.Write(buf[off : off+n])
		prog.Update(off+n, size)
	}
	if opts.SHA256 != "" {
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, opts.SHA256) {
			return nil, fmt.Errorf("%s: sha256 %s, expected %s", spec, got, opts.SHA256)
		}
	}
	m, err := model.OpenBytes(spec, buf, model.Options{TokenizerPath: opts.TokenizerPath})
	if err != nil {
		return nil, err
	}
	// buf is this load's own: repacking inside it costs no memory.
	w, err := MemoryWith(m, MemoryOptions{RowMajor: opts.RowMajor, InPlace: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	src.Close()
	return &Loaded{Model: m, Weights: w, Plan: plan, Source: "read into memory", closers: []io.Closer{closeFunc(free), m, w}}, nil
}

// closeFunc is a func as an io.Closer.
type closeFunc func() error

func (f closeFunc) Close() error { return f() }

// verify reads the first size bytes of the source in order and compares
// their sha256.
func verify(src Source, size int64, want string, prog *Progress) error {
	h := sha256.New()
	buf := make([]byte, 16<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := src.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		h.Write(buf[:n])
		prog.Update(off+n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("sha256 %s, expected %s", got, want)
	}
	return nil
}

// SHA256Beside returns the digest in PATH.sha256 (sha256sum's format) when
// that file exists, for local models.
func SHA256Beside(path string) string {
	b, err := os.ReadFile(path + ".sha256")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
