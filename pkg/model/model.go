// Package model is the one description of a model that the rest of llmboot
// sees, whatever file it came from: hyper-parameters, the tensor table (named
// as in GGUF llama files) and the tokenizer.
//
// The file formats themselves live in the sub-packages gguf and llama2c; Open
// recognises a file by its first bytes and maps it onto this description.
package model

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/llmboot/llmboot/internal/filesize"
	"github.com/llmboot/llmboot/internal/mmapfile"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// SupportedArchitectures lists the values of general.architecture the engine runs.
var SupportedArchitectures = []string{"llama"}

// Config holds the hyper-parameters of a llama-family model.
type Config struct {
	Arch     string
	Dim      int // embedding length
	Hidden   int // feed-forward length
	Layers   int
	Heads    int
	KVHeads  int
	HeadDim  int
	Vocab    int
	Context  int // training context length
	RopeBase float32
	RMSEps   float32
}

// KVDim is the width of one position's keys (and values): KVHeads × HeadDim.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim }

// Validate checks that the hyper-parameters describe a model the forward pass
// can run, so that a corrupt header fails here rather than in the middle of a
// matrix product.
func (c Config) Validate() error {
	switch {
	case c.Dim <= 0 || c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.Vocab <= 0:
		return fmt.Errorf("hyper-parameters must be positive: dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d",
			c.Dim, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Vocab)
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%d heads is not a multiple of %d kv heads", c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("head dimension %d must be positive and even (RoPE rotates pairs)", c.HeadDim)
	case c.Context <= 0:
		return fmt.Errorf("context length %d must be positive", c.Context)
	case !(c.RMSEps > 0) || !(c.RopeBase > 0):
		return fmt.Errorf("rms epsilon %g and rope base %g must be positive", c.RMSEps, c.RopeBase)
	}
	return nil
}

// Tensor is one named tensor. Shape is in ggml order: Shape[0] is the length
// of a row. Data is a view of the mapped file (nil only for formats that have
// not been read yet).
type Tensor struct {
	Name  string
	Type  tensor.Type
	Shape []int
	// Offset is where Data starts in the model file, for loaders that read
	// tensors from the file themselves instead of through a mapping; -1 when
	// the bytes were made at load (llama2.c int8 checkpoints).
	Offset int64
	Data   []byte
}

// Rows and Cols view a tensor as a matrix of Rows rows of Cols elements.
func (t Tensor) Cols() int { return t.Shape[0] }

// Rows is the product of every dimension but the first.
func (t Tensor) Rows() int {
	n := 1
	for _, d := range t.Shape[1:] {
		n *= d
	}
	return n
}

// Elements is the number of values in the tensor.
func (t Tensor) Elements() int { return t.Cols() * t.Rows() }

// Format names the kind of file a model came from.
type Format string

// The formats Open recognises.
const (
	FormatGGUF    Format = "gguf"
	FormatLlama2c Format = "llama2c"
)

// Model is an open model: its description and the mapping behind its tensors.
type Model struct {
	Path   string
	Format Format
	// FileSize is the file's size; for a GGUF read from a block device, the
	// bytes the GGUF occupies at its start.
	FileSize int64
	Config   Config
	Tensors  []Tensor
	// Tokenizer is nil only when the model carries none and none was given.
	Tokenizer     *tokenizer.Tokenizer
	TokenizerKind string
	// StopOnBOS is the llama2.c convention: run.c ends generation when it
	// samples BOS, llama.cpp when it samples EOS.
	StopOnBOS bool

	byName map[string]int
	closer io.Closer
	mapped bool // tensors are views of a file mapping
}

// Options tune Open.
type Options struct {
	// TokenizerPath names a llama2.c tokenizer.bin. For a llama2.c checkpoint
	// it defaults to tokenizer.bin beside the model; for a GGUF file it
	// replaces the file's own vocabulary when set.
	TokenizerPath string
}

// Open recognises the format of the file at path, parses it and returns its
// description. Tensors are zero-copy views of a read-only mapping.
func Open(path string, opts Options) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", unwrapPathError(err))
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	st, statErr := f.Stat()
	var size int64
	if statErr == nil && !st.IsDir() {
		size, statErr = filesize.Of(f) // stat says 0 for a block device
	}
	f.Close()
	if statErr != nil {
		return nil, fmt.Errorf("model: %s: %w", path, statErr)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("model: %s is a directory, not a model file", path)
	}
	device := filesize.IsBlockDevice(st.Mode())
	var m *Model
	switch {
	case n == 4 && string(magic[:]) == "GGUF":
		m, err = openGGUF(path, opts)
		if err == nil && device {
			// Report the model, not the whole disk it was written to.
			size = m.FileSize
		}
	case n == 4 && string(magic[:]) == "GGML", n == 4 && string(magic[:]) == "ggjt", n == 4 && string(magic[:]) == "ggmf":
		return nil, fmt.Errorf("model: %s: legacy GGML/GGJT file; convert it to GGUF with llama.cpp's convert scripts", path)
	case n == 4:
		// llama2.c: versioned checkpoints start with the magic "ak42" (as a
		// little-endian uint32, bytes "24ka"); legacy ones have no magic, the
		// first int32 is dim. The llama2c parser tells them apart.
		m, err = openLlama2c(path, opts)
	default:
		return nil, fmt.Errorf("model: %s: file is %d bytes, too short to be a model", path, size)
	}
	if err != nil {
		return nil, err
	}
	m.Path = path
	m.FileSize = size
	m.index()
	if err := m.check(); err != nil {
		m.Close()
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	return m, nil
}

// unwrapPathError keeps "open x: no such file or directory" short and clear.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func (m *Model) index() {
	m.byName = make(map[string]int, len(m.Tensors))
	for i, t := range m.Tensors {
		m.byName[t.Name] = i
	}
}

// Tensor returns the tensor called name.
func (m *Model) Tensor(name string) (Tensor, bool) {
	i, ok := m.byName[name]
	if !ok {
		return Tensor{}, false
	}
	return m.Tensors[i], true
}

// Evict says that b, bytes of this model's tensors, will not be read for a
// while (the loader copied them elsewhere): when they are a file mapping,
// their pages leave the process's resident set. Contents never change, and
// reading b again stays correct (it faults the pages back in).
func (m *Model) Evict(b []byte) {
	if m.mapped {
		mmapfile.Evict(b)
	}
}

// Close releases the file mapping; tensors must not be used afterwards.
func (m *Model) Close() error {
	if m.closer == nil {
		return nil
	}
	err := m.closer.Close()
	m.closer = nil
	return err
}

// TypeCounts returns how many tensors of each type the model has, sorted by type name.
func (m *Model) TypeCounts() []TypeCount {
	counts := map[tensor.Type]int{}
	for _, t := range m.Tensors {
		counts[t.Type]++
	}
	out := make([]TypeCount, 0, len(counts))
	for t, n := range counts {
		out = append(out, TypeCount{t, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type.String() < out[j].Type.String() })
	return out
}

// TypeCount is one line of TypeCounts.
type TypeCount struct {
	Type  tensor.Type
	Count int
}

// Block-level tensor names, as GGUF llama files spell them.
const (
	TokenEmbd  = "token_embd.weight"
	OutputNorm = "output_norm.weight"
	Output     = "output.weight"
)

// LayerTensor names tensor part (e.g. "attn_q") of layer i: "blk.3.attn_q.weight".
func LayerTensor(i int, part string) string { return fmt.Sprintf("blk.%d.%s.weight", i, part) }

// LayerParts are the tensors every llama block has.
var LayerParts = []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"}

// check verifies that every tensor the forward pass needs is present with
// the shape the hyper-parameters imply, so a mismatched file is refused at
// load with the tensor's name rather than misread later.
func (m *Model) check() error {
	c := m.Config
	if err := c.Validate(); err != nil {
		return err
	}
	want := map[string][2]int{
		TokenEmbd:  {c.Dim, c.Vocab},
		OutputNorm: {c.Dim, 1},
	}
	for i := 0; i < c.Layers; i++ {
		for part, shape := range map[string][2]int{
			"attn_norm": {c.Dim, 1}, "ffn_norm": {c.Dim, 1},
			"attn_q": {c.Dim, c.Heads * c.HeadDim}, "attn_k": {c.Dim, c.KVDim()}, "attn_v": {c.Dim, c.KVDim()},
			"attn_output": {c.Heads * c.HeadDim, c.Dim},
			"ffn_gate":    {c.Dim, c.Hidden}, "ffn_up": {c.Dim, c.Hidden}, "ffn_down": {c.Hidden, c.Dim},
		} {
			want[LayerTensor(i, part)] = shape
		}
	}
	if _, ok := m.Tensor(Output); ok {
		want[Output] = [2]int{c.Dim, c.Vocab}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		shape := want[name]
		t, ok := m.Tensor(name)
		if !ok {
			return fmt.Errorf("tensor %q is missing", name)
		}
		if t.Cols() != shape[0] || t.Rows() != shape[1] {
			return fmt.Errorf("tensor %q has shape %v, want [%d %d] for this model's hyper-parameters", name, t.Shape, shape[0], shape[1])
		}
		if !t.Type.Known() {
			return fmt.Errorf("tensor %q has unsupported type %s", name, t.Type)
		}
	}
	return nil
}

func unsupportedArch(arch string) error {
	return fmt.Errorf("architecture %q is not supported (supported: %s)", arch, strings.Join(SupportedArchitectures, ", "))
}
