package synth

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// Options describe the model Write makes.
type Options struct {
	Shape Shape
	Mix   Mix
	Seed  uint64
	// Std is the standard deviation of the weights (0: 0.02, as the
	// reference models).
	Std float64
	// Vocab is the tokenizer metadata; nil means SyntheticVocab(Shape.Vocab).
	// Its size must equal Shape.Vocab.
	Vocab *Vocab
	// Name is general.name (default "synthetic-llama").
	Name string
	// Threads quantize rows in parallel (0: one per CPU). The bytes do not
	// depend on it.
	Threads int
	// Progress, if set, is called after each tensor with the bytes of
	// tensor data written so far and the total.
	Progress func(tensor string, done, total uint64)
}

// Result describes a written file.
type Result struct {
	Tensors   []TensorSpec
	DataBytes uint64 // tensor data, as DataBytes
	FileBytes int64  // the whole file: header, vocabulary, tensors
}

// chunkBytes bounds the quantized rows held in memory per tensor.
const chunkBytes = 4 << 20

// Write writes the model to path (through a temporary file renamed into
// place, so an error leaves no partial file at path). Memory stays a few
// MB whatever the model size: tensors are generated and quantized in chunks
// of rows while the file is written.
//
// Weights are normal(0, Std) float32 values quantized by kernels.QuantizeRow
// (ggml's encoders, byte for byte); each row comes from its own generator
// seeded by (Seed, tensor name, row), so the file is the same for a seed
// whatever the thread count. Norm weights are 1.
func Write(path string, o Options) (Result, error) {
	specs, err := Plan(o.Shape, o.Mix)
	if err != nil {
		return Result{}, err
	}
	if o.Vocab == nil {
		if o.Vocab, err = SyntheticVocab(o.Shape.Vocab); err != nil {
			return Result{}, err
		}
	}
	if o.Vocab.Size != o.Shape.Vocab {
		return Result{}, fmt.Errorf("synth: vocabulary %s has %d tokens, the shape %d", o.Vocab.Source, o.Vocab.Size, o.Shape.Vocab)
	}
	if o.Std == 0 {
		o.Std = 0.02
	}
	if !(o.Std > 0) || math.IsInf(o.Std, 0) {
		return Result{}, fmt.Errorf("synth: standard deviation %g must be positive", o.Std)
	}
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.Name == "" {
		o.Name = "synthetic-llama"
	}
	w, err := newWriter(o, specs)
	if err != nil {
		return Result{}, err
	}
	if err := gguf.WriteFile(path, w); err != nil {
		return Result{}, fmt.Errorf("synth: %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	return Result{Tensors: specs, DataBytes: DataBytes(specs), FileBytes: st.Size()}, nil
}

// newWriter sets up the metadata, laid out as llama.cpp's files of the
// reference models, and the tensors as generators.
func newWriter(o Options, specs []TensorSpec) (*gguf.Writer, error) {
	s := o.Shape
	w := gguf.NewWriter()
	kvs := []struct {
		key string
		v   any
	}{
		{"general.architecture", "llama"},
		{"general.name", o.Name},
		{"general.description", fmt.Sprintf("llmboot synthetic model: random weights normal(0, %g), seed %d, not a language model", o.Std, o.Seed)},
		{"llama.vocab_size", uint32(s.Vocab)},
		{"llama.context_length", uint32(s.Context)},
		{"llama.embedding_length", uint32(s.Dim)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.Hidden)},
		{"llama.rope.dimension_count", uint32(s.HeadDim())},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.KVHeads)},
		{"llama.attention.layer_norm_rms_epsilon", s.RMSEps},
		{"llama.rope.freq_base", s.RopeBase},
	}
	for _, kv := range kvs {
		if err := w.AddKV(kv.key, kv.v); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	for _, kv := range o.Vocab.KV {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			return nil, fmt.Errorf("synth: vocabulary %s: %w", o.Vocab.Source, err)
		}
	}
	if err := w.AddKV("general.quantization_version", uint32(2)); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := w.AddKV("general.file_type", o.Mix.FileType()); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	total := DataBytes(specs)
	var done uint64
	for _, spec := range specs {
		g := &generator{spec: spec, seed: o.Seed, std: o.Std, threads: o.Threads}
		err := w.AddTensorFunc(spec.Name, spec.Type, spec.Shape, func(out io.Writer) error {
			if err := g.write(out); err != nil {
				return err
			}
			done += spec.Bytes()
			if o.Progress != nil {
				o.Progress(spec.Name, done, total)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
	}
	return w, nil
}

// generator produces one tensor's bytes.
type generator struct {
	spec    TensorSpec
	seed    uint64
	std     float64
	threads int
}

func (g *generator) write(out io.Writer) error {
	t, cols := g.spec.Type, int(g.spec.Shape[0])
	rows := 1
	for _, d := range g.spec.Shape[1:] {
		rows *= int(d)
	}
	rb, err := t.RowBytes(cols)
	if err != nil {
		return err
	}
	if g.spec.Norm {
		row := make([]float32, cols)
		for i := range row {
			row[i] = 1
		}
		buf := make([]byte, rb)
		if err := kernels.QuantizeRow(t, buf, row); err != nil {
			return err
		}
		for r := 0; r < rows; r++ {
			if _, err := out.Write(buf); err != nil {
				return err
			}
		}
		return nil
	}
	chunk := max(1, min(rows, chunkBytes/rb))
	buf := make([]byte, chunk*rb)
	stream := nameHash(g.spec.Name)
	for r0 := 0; r0 < rows; r0 += chunk {
		n := min(chunk, rows-r0)
		if err := g.fill(buf[:n*rb], r0, n, cols, rb, stream); err != nil {
			return err
		}
		if _, err := out.Write(buf[:n*rb]); err != nil {
			return err
		}
	}
	return nil
}

// fill generates and quantizes rows r0..r0+n-1 into buf, the rows split
// over the threads.
func (g *generator) fill(buf []byte, r0, n, cols, rb int, stream uint64) error {
	parts := min(g.threads, n)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		lo, hi := p*n/parts, (p+1)*n/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]float32, cols)
			for i := lo; i < hi; i++ {
				rng := rand.New(rand.NewPCG(g.seed, stream^mix64(uint64(r0+i))))
				for j := range row {
					row[j] = float32(rng.NormFloat64() * g.std)
				}
				if err := kernels.QuantizeRow(g.spec.Type, buf[i*rb:(i+1)*rb], row); err != nil {
					errs[p] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// mix64 is splitmix64's finalizer: row numbers become unrelated stream
// seeds.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// TypeCounts counts the tensors of each type in a plan.
func TypeCounts(specs []TensorSpec) map[tensor.Type]int {
	c := map[tensor.Type]int{}
	for _, s := range specs {
		c[s.Type]++
	}
	return c
}
