// Package loader decides how a model's weights reach the kernels and
// implements each way: resident in memory (this file), and later streamed
// from NVMe or HTTP, held in device memory, or served by remote nodes.
package loader

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// Resident serves every tensor straight from the model's memory mapping:
// the memory strategy. Norm vectors are decoded to float32 once at load.
type Resident struct {
	layers     []llm.LayerWeights
	embd, out  kernels.Matrix
	outputNorm []float32
}

// Memory builds resident weights for m, checking that every tensor has a
// type the kernels support.
func Memory(m *model.Model) (*Resident, error) {
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
	return r, nil
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
