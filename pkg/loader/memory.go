// Package loader decides how a model's weights reach the kernels and
// implements each way: resident in memory (this file), and later streamed
// from NVMe or HTTP, held in device memory, or served by remote nodes.
package loader

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/llmboot/llmboot/internal/mmapfile"
	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// Resident serves every tensor from memory: the memory strategy. Tensors
// are views of the model's mapping, except the matrices repacked for the
// kernels (see MemoryOptions); norm vectors are decoded to float32 once at
// load.
type Resident struct {
	layers     []llm.LayerWeights
	embd, out  kernels.Matrix
	outputNorm []float32

	// Repacked matrices live in arena, outside the Go heap.
	arena     []byte
	freeArena func() error
	Repacked  int64 // bytes repacked at load
}

// MemoryOptions tune Memory.
type MemoryOptions struct {
	// RowMajor keeps every matrix in the file's layout. By default the
	// matrices kernels.PreferredLayout names a layout for are repacked
	// into new memory and their file pages evicted, so the resident set
	// stays about the file's size: Q4_0 and Q8_0 are interleaved by row
	// quads (one sequential stream per four rows reads about twice as fast
	// from DRAM as four, docs/benchmarks.md), Q3_K, Q4_K, Q5_K and Q6_K
	// get their levels stored in the lane-major order their kernels want
	// (kernels.LayoutLaneMajor; only where the active kernel path has
	// kernels for it). The token embedding, read a row at a time, is
	// never repacked.
	RowMajor bool
	// InPlace repacks inside the model's own bytes instead of new memory:
	// for a model read into a buffer that only these weights use (no file
	// mapping to evict), so repacking costs no memory. The model's tensors
	// that were repacked then hold the new layout, not ggml's.
	InPlace bool
}

// Memory builds resident weights for m with the default options.
func Memory(m *model.Model) (*Resident, error) { return MemoryWith(m, MemoryOptions{}) }

// MemoryWith builds resident weights for m, checking that every tensor has
// a type the kernels support.
func MemoryWith(m *model.Model, opts MemoryOptions) (*Resident, error) {
	c := m.Config
	r := &Resident{}
	var err error
	if r.embd, err = matrix(m, model.TokenEmbd); err != nil {
		return nil, err
	}
	r.out = r.embd // tied classifier unless the file has its own
	if _, ok := m.Tensor(model.Output); ok {
		if r.out, err = matrix(m, model.Output); err != nil {
			return nil, err
		}
	}
	if r.outputNorm, err = vector(m, model.OutputNorm); err != nil {
		return nil, err
	}
	for i := 0; i < c.Layers; i++ {
		var lw llm.LayerWeights
		for _, p := range []struct {
			part string
			dst  *kernels.Matrix
		}{
			{"attn_q", &lw.Q}, {"attn_k", &lw.K}, {"attn_v", &lw.V}, {"attn_output", &lw.O},
			{"ffn_gate", &lw.Gate}, {"ffn_up", &lw.Up}, {"ffn_down", &lw.Down},
		} {
			if *p.dst, err = matrix(m, model.LayerTensor(i, p.part)); err != nil {
				return nil, err
			}
		}
		if lw.AttnNorm, err = vector(m, model.LayerTensor(i, "attn_norm")); err != nil {
			return nil, err
		}
		if lw.FFNNorm, err = vector(m, model.LayerTensor(i, "ffn_norm")); err != nil {
			return nil, err
		}
		r.layers = append(r.layers, lw)
	}
	if !opts.RowMajor {
		if err := r.repack(m, opts.InPlace); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// repack rewrites every matrix kernels.PreferredLayout names a layout
// for, in place or into one arena, evicting the file pages it copied from.
func (r *Resident) repack(m *model.Model, inPlace bool) error {
	var todo []*kernels.Matrix
	add := func(mx *kernels.Matrix) {
		if kernels.PreferredLayout(*mx) != kernels.LayoutRows {
			todo = append(todo, mx)
		}
	}
	for i := range r.layers {
		lw := &r.layers[i]
		for _, mx := range []*kernels.Matrix{&lw.Q, &lw.K, &lw.V, &lw.O, &lw.Gate, &lw.Up, &lw.Down} {
			add(mx)
		}
	}
	if len(r.out.Data) > 0 && len(r.embd.Data) > 0 && &r.out.Data[0] != &r.embd.Data[0] {
		add(&r.out) // a tied classifier is the embedding, read by rows
	}
	var total int
	for _, mx := range todo {
		total += len(mx.Data)
	}
	if total == 0 {
		return nil
	}
	// Into one arena outside the Go heap unless in place.
	var (
		arena []byte
		free  func() error
		err   error
	)
	if !inPlace {
		if arena, free, err = mmapfile.Anon(total); err != nil {
			return fmt.Errorf("repacking %s of weights: %w", FormatBytes(int64(total)), err)
		}
	}
	offs := make([]int, len(todo))
	for i, off := 0, 0; i < len(todo); i++ {
		offs[i] = off
		off += len(todo[i].Data)
	}
	// Copying a gigabyte is page faults more than bytes: spread it over
	// the cores.
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	for w := 0; w < min(runtime.NumCPU(), len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(todo); i = int(next.Add(1) - 1) {
				mx := todo[i]
				dst := mx.Data
				if !inPlace {
					dst = arena[offs[i] : offs[i]+len(mx.Data) : offs[i]+len(mx.Data)]
				}
				packed, err := kernels.Repack(dst, *mx)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				if !inPlace {
					m.Evict(mx.Data)
				}
				*mx = packed
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		if free != nil {
			free()
		}
		return firstErr
	}
	r.arena, r.freeArena, r.Repacked = arena, free, int64(total)
	return nil
}

// Close frees the repacked matrices; the weights must not be used after.
func (r *Resident) Close() error {
	if r.freeArena == nil {
		return nil
	}
	err := r.freeArena()
	r.arena, r.freeArena = nil, nil
	return err
}

// matrix views a 2-D tensor as a kernel matrix.
func matrix(m *model.Model, name string) (kernels.Matrix, error) {
	t, ok := m.Tensor(name)
	if !ok {
		return kernels.Matrix{}, fmt.Errorf("tensor %q is missing", name)
	}
	if err := supported(t); err != nil {
		return kernels.Matrix{}, err
	}
	mx := kernels.Matrix{Type: t.Type, Rows: t.Rows(), Cols: t.Cols(), Data: t.Data}
	if err := mx.Validate(); err != nil {
		return kernels.Matrix{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	return mx, nil
}

// vector decodes a 1-D tensor (a norm's weights) to float32.
func vector(m *model.Model, name string) ([]float32, error) {
	t, ok := m.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("tensor %q is missing", name)
	}
	return decodeNorm(nil, t, t.Data)
}

// supported refuses, by name, a weight tensor the kernels cannot multiply.
func supported(t model.Tensor) error {
	if !kernels.Supported(t.Type) {
		return fmt.Errorf("tensor %q has type %s, which the kernels do not support", t.Name, t.Type)
	}
	return nil
}

// decodeNorm decodes norm weights b (of tensor t) to float32, reusing dst
// when it is big enough. Norms are F32, F16 or BF16 in every file we know.
func decodeNorm(dst []float32, t model.Tensor, b []byte) ([]float32, error) {
	if t.Type != tensor.F32 && t.Type != tensor.F16 && t.Type != tensor.BF16 {
		return nil, fmt.Errorf("tensor %q has type %s; norm weights must be F32, F16 or BF16", t.Name, t.Type)
	}
	if cap(dst) < t.Elements() {
		dst = make([]float32, t.Elements())
	}
	dst = dst[:t.Elements()]
	if err := kernels.DequantizeRow(t.Type, dst, b); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return dst, nil
}

// Layer returns layer i's weights.
func (r *Resident) Layer(i int) (*llm.LayerWeights, error) {
	if i < 0 || i >= len(r.layers) {
		return nil, fmt.Errorf("layer %d out of range [0,%d)", i, len(r.layers))
	}
	return &r.layers[i], nil
}

// Release does nothing: resident weights stay mapped.
func (r *Resident) Release(int) {}

// Embedding decodes one row of the token embedding.
func (r *Resident) Embedding(token int, dst []float32) error {
	if token < 0 || token >= r.embd.Rows {
		return fmt.Errorf("token %d out of range [0,%d)", token, r.embd.Rows)
	}
	return kernels.DequantizeRow(r.embd.Type, dst, r.embd.Row(token))
}

// OutputNorm returns the final norm's weights.
func (r *Resident) OutputNorm() []float32 { return r.outputNorm }

// Output returns the classifier.
func (r *Resident) Output() (kernels.Matrix, error) { return r.out, nil }
