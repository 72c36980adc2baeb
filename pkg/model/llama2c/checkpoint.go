// Package llama2c reads and writes the checkpoint and tokenizer files of
// Andrej Karpathy's llama2.c: the legacy fp32 .bin (version 0, run.c's
// format) and export.py's versioned "ak42" files (1: fp32, 2: int8 groups).
//
// Tensors get the names and shapes of GGUF llama files, so the engine sees
// one tensor table whatever the file: llama2.c's row-major W[out][in] is
// ggml's shape [in, out], the same bytes.
package llama2c

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/llmboot/llmboot/internal/mmapfile"
)

// Magic starts a versioned checkpoint: "ak42" as a little-endian uint32.
const Magic = 0x616b3432

// HeaderSize is the size of a versioned checkpoint's header.
const HeaderSize = 256

// legacyHeaderSize is run.c's Config struct: 7 int32.
const legacyHeaderSize = 28

// Limits on header values: far above any llama2.c model, low enough that
// sizes computed from them cannot overflow.
const (
	maxDim    = 1 << 16
	maxHidden = 1 << 18
	maxLayers = 1 << 10
	maxVocab  = 1 << 21
	maxSeqLen = 1 << 20
	maxGroup  = 1 << 16
)

// Config is a llama2.c checkpoint header.
type Config struct {
	Dim, Hidden, Layers, Heads, KVHeads int
	Vocab                               int // always positive here; legacy files sign it
	SeqLen                              int
	// SharedClassifier: the output projection is the token embedding (no
	// output.weight tensor).
	SharedClassifier bool
	Version          int // 0 legacy (run.c), 1 fp32 "ak42", 2 int8 "ak42"
	GroupSize        int // version 2: elements per int8 group
}

// HeadSize is Dim / Heads.
func (c Config) HeadSize() int { return c.Dim / c.Heads }

// KVDim is the width of the key and value projections: KVHeads × HeadSize.
func (c Config) KVDim() int { return c.KVHeads * c.HeadSize() }

// Validate checks that the header describes a model that can exist.
func (c Config) Validate() error {
	for _, f := range []struct {
		name     string
		val, max int
	}{
		{"dim", c.Dim, maxDim}, {"hidden_dim", c.Hidden, maxHidden}, {"n_layers", c.Layers, maxLayers},
		{"n_heads", c.Heads, maxDim}, {"n_kv_heads", c.KVHeads, maxDim}, {"vocab_size", c.Vocab, maxVocab},
		{"seq_len", c.SeqLen, maxSeqLen},
	} {
		if f.val <= 0 || f.val > f.max {
			return fmt.Errorf("llama2c: header: %s = %d, want 1..%d", f.name, f.val, f.max)
		}
	}
	switch {
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("llama2c: header: dim %d is not a multiple of n_heads %d", c.Dim, c.Heads)
	case c.HeadSize()%2 != 0:
		return fmt.Errorf("llama2c: header: head size %d is odd (RoPE rotates pairs)", c.HeadSize())
	case c.KVHeads > c.Heads || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("llama2c: header: n_heads %d is not a multiple of n_kv_heads %d", c.Heads, c.KVHeads)
	}
	switch c.Version {
	case 0, 1:
	case 2:
		if c.GroupSize <= 0 || c.GroupSize > maxGroup {
			return fmt.Errorf("llama2c: header: group_size = %d, want 1..%d", c.GroupSize, maxGroup)
		}
	default:
		return fmt.Errorf("llama2c: header: version %d is not 0, 1 or 2", c.Version)
	}
	return nil
}

// Tensor is one weight: a view of float32 little-endian values.
type Tensor struct {
	Name  string
	Shape []int // ggml order: Shape[0] is the row length
	Data  []byte
}

// Elements is the number of values.
func (t Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s copies the values out.
func (t Tensor) Float32s() []float32 {
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}

// Checkpoint is a parsed checkpoint. Tensors are in file order. Their Data
// views the file's bytes, except a version 2 file's int8 weights, which are
// dequantized to new float32 buffers at load (int8 groups with a float32
// scale per group_size values are not a ggml type).
type Checkpoint struct {
	Config  Config
	Tensors []Tensor

	index map[string]int
	unmap func() error
}

// Tensor returns the tensor called name.
func (c *Checkpoint) Tensor(name string) (Tensor, bool) {
	i, ok := c.index[name]
	if !ok {
		return Tensor{}, false
	}
	return c.Tensors[i], true
}

// Close releases the file mapping of a Checkpoint from Open; its tensors
// must not be used afterwards.
func (c *Checkpoint) Close() error {
	u := c.unmap
	c.unmap = nil
	c.Tensors, c.index = nil, nil
	if u != nil {
		return u()
	}
	return nil
}

// Open maps the checkpoint at path read-only (reading it into memory where
// mmap is unavailable) and parses it.
func Open(path string) (*Checkpoint, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	defer fh.Close() // a mapping outlives its descriptor
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	size := st.Size()
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, fmt.Errorf("llama2c: %s: file size %d does not fit in memory", path, size)
	}
	var (
		data  []byte
		unmap func() error
	)
	if size > 0 {
		data, unmap, err = mmapfile.Map(fh, int(size))
	}
	if size == 0 || err != nil {
		data = make([]byte, size)
		if _, err := io.ReadFull(fh, data); err != nil {
			return nil, fmt.Errorf("llama2c: %s: %w", path, err)
		}
		unmap = nil
	}
	c, err := Parse(data)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.unmap = unmap
	return c, nil
}

// Parse reads a checkpoint held in b; the tensors view b.
func Parse(b []byte) (*Checkpoint, error) {
	cfg, off, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	specs := layout(cfg)
	want := int64(off)
	for _, s := range specs {
		if s.quantized && s.elements()%cfg.GroupSize != 0 {
			return nil, fmt.Errorf("llama2c: %s: %d values are not a whole number of groups of %d", s.name, s.elements(), cfg.GroupSize)
		}
		want += s.bytes(cfg)
	}
	if want != int64(len(b)) {
		return nil, fmt.Errorf("llama2c: file is %d bytes, the header (version %d, %+v) implies %d", len(b), cfg.Version, headerSummary(cfg), want)
	}
	c := &Checkpoint{Config: cfg, index: make(map[string]int, len(specs))}
	for _, s := range specs {
		n := int(s.bytes(cfg))
		chunk := b[off : off+n : off+n]
		off += n
		if s.name == "" {
			continue // legacy freq_cis tables: the engine computes RoPE itself
		}
		t := Tensor{Name: s.name, Shape: s.shape, Data: chunk}
		if s.quantized {
			t.Data = dequantize(chunk, s.elements(), cfg.GroupSize)
		}
		c.index[s.name] = len(c.Tensors)
		c.Tensors = append(c.Tensors, t)
	}
	return c, nil
}

// headerSummary formats the header values for error messages.
func headerSummary(c Config) string {
	return fmt.Sprintf("dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d, shared %v",
		c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab, c.SeqLen, c.SharedClassifier)
}

func parseHeader(b []byte) (Config, int, error) {
	i32 := func(off int) int { return int(int32(binary.LittleEndian.Uint32(b[off:]))) }
	var c Config
	if len(b) >= 4 && binary.LittleEndian.Uint32(b) == Magic {
		if len(b) < HeaderSize {
			return c, 0, fmt.Errorf("llama2c: %d bytes, too short for the %d-byte header", len(b), HeaderSize)
		}
		c.Version = i32(4)
		if c.Version != 1 && c.Version != 2 {
			return c, 0, fmt.Errorf("llama2c: header offset 4: version %d is not 1 or 2", c.Version)
		}
		c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab, c.SeqLen = i32(8), i32(12), i32(16), i32(20), i32(24), i32(28), i32(32)
		switch b[36] {
		case 0:
		case 1:
			c.SharedClassifier = true
		default:
			return c, 0, fmt.Errorf("llama2c: header offset 36: shared_classifier = %d, want 0 or 1", b[36])
		}
		if c.Version == 2 {
			c.GroupSize = i32(37) // packed right after the flag byte, unaligned
		}
		if err := c.Validate(); err != nil {
			return c, 0, err
		}
		return c, HeaderSize, nil
	}
	if len(b) < legacyHeaderSize {
		return c, 0, fmt.Errorf("llama2c: %d bytes, too short for the %d-byte legacy header", len(b), legacyHeaderSize)
	}
	c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab, c.SeqLen = i32(0), i32(4), i32(8), i32(12), i32(16), i32(20), i32(24)
	// A negative vocab_size means the classifier is stored separately.
	c.SharedClassifier = c.Vocab > 0
	if c.Vocab < 0 {
		c.Vocab = -c.Vocab // int is 64-bit wide, so even MinInt32 negates
	}
	if err := c.Validate(); err != nil {
		return c, 0, err
	}
	return c, legacyHeaderSize, nil
}

// spec is one array in a checkpoint file, in file order.
type spec struct {
	name      string // "" for arrays that are skipped (legacy freq_cis)
	shape     []int
	quantized bool // version 2: int8 values then one float32 scale per group
}

func (s spec) elements() int {
	n := 1
	for _, d := range s.shape {
		n *= d
	}
	return n
}

func (s spec) bytes(c Config) int64 {
	n := int64(s.elements())
	if s.quantized {
		return n + n/int64(c.GroupSize)*4
	}
	return n * 4
}

// layout lists the arrays of a checkpoint in file order, following
// llama2.c's export.py (legacy_export, version1_export, version2_export).
func layout(c Config) []spec {
	L, dim, kv, hid := c.Layers, c.Dim, c.KVDim(), c.Hidden
	perLayer := func(name string, shape ...int) []spec {
		s := make([]spec, L)
		for l := range s {
			s[l] = spec{name: fmt.Sprintf("blk.%d.%s.weight", l, name), shape: shape}
		}
		return s
	}
	embd := []spec{{name: "token_embd.weight", shape: []int{dim, c.Vocab}}}
	attnNorm, ffnNorm := perLayer("attn_norm", dim), perLayer("ffn_norm", dim)
	outNorm := []spec{{name: "output_norm.weight", shape: []int{dim}}}
	matrices := concat(
		perLayer("attn_q", dim, dim), perLayer("attn_k", dim, kv), perLayer("attn_v", dim, kv),
		perLayer("attn_output", dim, dim))
	ffn := concat(perLayer("ffn_gate", dim, hid), perLayer("ffn_down", hid, dim), perLayer("ffn_up", dim, hid))
	var out []spec
	if !c.SharedClassifier {
		out = []spec{{name: "output.weight", shape: []int{dim, c.Vocab}}}
	}
	switch c.Version {
	case 0:
		freq := spec{shape: []int{c.SeqLen * c.HeadSize() / 2}}
		return concat(embd, attnNorm, matrices, ffnNorm, ffn, outNorm, []spec{freq, freq}, out)
	case 1:
		return concat(attnNorm, ffnNorm, outNorm, embd, matrices, ffn, out)
	}
	q := concat(embd, matrices, ffn, out)
	for i := range q {
		q[i].quantized = true
	}
	return concat(attnNorm, ffnNorm, outNorm, q)
}

func concat(parts ...[]spec) []spec {
	var all []spec
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// dequantize expands n int8 values followed by n/group float32 scales into n
// float32 values (LE bytes), as runq.c's dequantize: q[i] * s[i/group].
func dequantize(chunk []byte, n, group int) []byte {
	q, scales := chunk[:n], chunk[n:]
	out := make([]byte, 4*n)
	for g := 0; g < n/group; g++ {
		s := math.Float32frombits(binary.LittleEndian.Uint32(scales[4*g:]))
		for i := g * group; i < (g+1)*group; i++ {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(int8(q[i]))*s))
		}
	}
	return out
}
