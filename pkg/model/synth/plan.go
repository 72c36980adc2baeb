// Package synth writes random-weight llama models as GGUF files: the shape
// of a real model (TinyLlama-1.1B by default) with weights drawn from
// normal(0, σ), quantized into the same type mixes llama-quantize makes. Such
// a file runs exactly as fast as the real model, so it stands in for one in
// benchmarks on machines that cannot download weights. Its text output is
// gibberish by construction.
package synth

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Shape holds the hyper-parameters of a synthetic llama model.
type Shape struct {
	Dim, Hidden, Layers int
	Heads, KVHeads      int
	Vocab, Context      int
	RopeBase, RMSEps    float32
}

// HeadDim is the width of one attention head.
func (s Shape) HeadDim() int { return s.Dim / s.Heads }

// Validate checks that the shape makes a llama model the engine runs.
func (s Shape) Validate() error {
	switch {
	case s.Dim <= 0 || s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.Vocab <= 0 || s.Context <= 0:
		return fmt.Errorf("synth: shape %+v: every size must be positive", s)
	case s.Dim%s.Heads != 0:
		return fmt.Errorf("synth: dim %d is not a multiple of %d heads", s.Dim, s.Heads)
	case s.HeadDim()%2 != 0:
		return fmt.Errorf("synth: head dimension %d must be even (RoPE rotates pairs)", s.HeadDim())
	case s.Heads%s.KVHeads != 0:
		return fmt.Errorf("synth: %d heads is not a multiple of %d kv heads", s.Heads, s.KVHeads)
	case !(s.RopeBase > 0) || !(s.RMSEps > 0):
		return fmt.Errorf("synth: rope base %g and rms epsilon %g must be positive", s.RopeBase, s.RMSEps)
	}
	return nil
}

// DefaultPreset is the shape llama.cpp's reference speeds were measured on.
const DefaultPreset = "tinyllama-1.1b"

// Presets are the named shapes. tinyllama-1.1b is TinyLlama-1.1B (the
// reference benchmark shape, Llama 2 vocabulary); tiny256 is the shape of
// the project's tiny256 test models (every row a multiple of 256, so every
// type applies).
var Presets = map[string]Shape{
	"tinyllama-1.1b": {Dim: 2048, Hidden: 5632, Layers: 22, Heads: 32, KVHeads: 4, Vocab: 32000, Context: 2048, RopeBase: 10000, RMSEps: 1e-5},
	"tiny256":        {Dim: 256, Hidden: 768, Layers: 2, Heads: 8, KVHeads: 4, Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5},
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var names []string
	for n := range Presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Mix is a model file type as llama-quantize names them: the main weight type
// plus its rules for the tensors that get more bits.
type Mix string

// The mixes Write makes. Norms are F32 in all of them.
const (
	F32    Mix = "F32"    // everything F32
	F16    Mix = "F16"    // every matrix F16
	BF16   Mix = "BF16"   // every matrix BF16
	Q8_0   Mix = "Q8_0"   // every matrix Q8_0, output too
	Q4_0   Mix = "Q4_0"   // Q4_0, output Q6_K
	Q4_K_M Mix = "Q4_K_M" // Q4_K, output Q6_K, attn_v and ffn_down Q6_K in the layers use_more_bits picks
	Q6_K   Mix = "Q6_K"   // every matrix Q6_K
	Q5_K_M Mix = "Q5_K_M" // Q5_K, output Q6_K, attn_v and ffn_down Q6_K in the layers use_more_bits picks
	Q3_K_M Mix = "Q3_K_M" // Q3_K, output Q6_K, attn_output Q4_K, attn_v and ffn_down Q5_K early then Q4_K
	Q2_K   Mix = "Q2_K"   // Q2_K, output Q6_K, attn_output and ffn_down Q3_K, attn_v Q4_K (grouped-query models)
)

// Mixes lists every Mix, in the order benchmarks report them: the five
// llama.cpp's reference speeds cover, then the other k-quant mixes.
var Mixes = []Mix{F16, Q8_0, Q4_0, Q4_K_M, Q6_K, F32, Q5_K_M, Q3_K_M, Q2_K, BF16}

// ParseMix reads a mix name, case-insensitively ("q4_k_m").
func ParseMix(s string) (Mix, error) {
	for _, m := range Mixes {
		if strings.EqualFold(string(m), s) {
			return m, nil
		}
	}
	var names []string
	for _, m := range Mixes {
		names = append(names, string(m))
	}
	return "", fmt.Errorf("synth: unknown type %q (known: %s)", s, strings.Join(names, ", "))
}

// base is the type most matrices of the mix get.
func (m Mix) base() tensor.Type {
	switch m {
	case F32:
		return tensor.F32
	case F16:
		return tensor.F16
	case BF16:
		return tensor.BF16
	case Q8_0:
		return tensor.Q8_0
	case Q4_0:
		return tensor.Q4_0
	case Q4_K_M:
		return tensor.Q4_K
	case Q6_K:
		return tensor.Q6_K
	case Q5_K_M:
		return tensor.Q5_K
	case Q3_K_M:
		return tensor.Q3_K
	case Q2_K:
		return tensor.Q2_K
	}
	return 0
}

// FileType is the mix's general.file_type (llama.cpp's llama_ftype).
func (m Mix) FileType() uint32 {
	switch m {
	case F32:
		return 0
	case F16:
		return 1
	case Q4_0:
		return 2
	case Q8_0:
		return 7
	case Q2_K:
		return 10
	case Q3_K_M:
		return 12
	case Q4_K_M:
		return 15
	case Q5_K_M:
		return 17
	case Q6_K:
		return 18
	case BF16:
		return 32
	}
	return 0
}

// TensorSpec is one tensor of a planned file.
type TensorSpec struct {
	Name  string
	Type  tensor.Type
	Shape []uint64 // ggml order: Shape[0] is the row length
	Layer int      // -1 outside the blocks
	Norm  bool     // a norm weight: all ones, always F32
}

// Bytes is the size of the tensor's data.
func (t TensorSpec) Bytes() uint64 {
	n := uint64(1)
	for _, d := range t.Shape[1:] {
		n *= d
	}
	rb, _ := t.Type.RowBytes(int(t.Shape[0]))
	return n * uint64(rb)
}

// Plan lists the tensors of a model of shape s in mix m, with their types,
// in the order llama-quantize writes them (the tensors outside the blocks
// by name, then each block's tensors by name).
func Plan(s Shape, m Mix) ([]TensorSpec, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if m.base() == 0 && m != F32 {
		return nil, fmt.Errorf("synth: unknown type %q", m)
	}
	d, h, v := uint64(s.Dim), uint64(s.Hidden), uint64(s.Vocab)
	q, kv := uint64(s.Heads*s.HeadDim()), uint64(s.KVHeads*s.HeadDim())
	matrix := func(name string, layer int, cols, rows uint64) TensorSpec {
		return TensorSpec{Name: name, Type: matrixType(m, name, layer, s.Layers, int(cols), s.Heads/s.KVHeads), Shape: []uint64{cols, rows}, Layer: layer}
	}
	norm := func(name string, layer int) TensorSpec {
		return TensorSpec{Name: name, Type: tensor.F32, Shape: []uint64{d}, Layer: layer, Norm: true}
	}
	specs := []TensorSpec{
		matrix("output.weight", -1, d, v),
		norm("output_norm.weight", -1),
		matrix("token_embd.weight", -1, d, v),
	}
	for i := 0; i < s.Layers; i++ {
		name := func(part string) string { return fmt.Sprintf("blk.%d.%s.weight", i, part) }
		specs = append(specs,
			matrix(name("attn_k"), i, d, kv),
			norm(name("attn_norm"), i),
			matrix(name("attn_output"), i, q, d),
			matrix(name("attn_q"), i, d, q),
			matrix(name("attn_v"), i, d, kv),
			matrix(name("ffn_down"), i, h, d),
			matrix(name("ffn_gate"), i, d, h),
			norm(name("ffn_norm"), i),
			matrix(name("ffn_up"), i, d, h),
		)
	}
	return specs, nil
}

// matrixType is llama.cpp's llama_tensor_get_type for the mixes here (no
// importance matrix, llama architecture, not 70B, no experts), followed by
// its fallback for rows that are not a whole number of the type's blocks.
// gqa is heads per kv head (llama.cpp's n_gqa()). attn_v's and ffn_down's counters in llama-quantize run in layer order, so
// the counter is the layer index.
func matrixType(m Mix, name string, layer, layers, cols, gqa int) tensor.Type {
	t := m.base()
	if m == F32 || m == F16 || m == BF16 {
		// llama-quantize applies its rules only to quantized file types.
		return t
	}
	suffix := func(s string) bool { return strings.HasSuffix(name, s) }
	switch {
	case name == "output.weight":
		if cols%t.BlockSize() != 0 {
			t = tensor.Q8_0
		} else if t != tensor.Q8_0 {
			t = tensor.Q6_K
		}
	case suffix(".attn_v.weight"):
		q2 := tensor.Q3_K // Q2_K's attn_v: Q4_K where n_gqa() >= 4
		if gqa >= 4 {
			q2 = tensor.Q4_K
		}
		t = moreBits(m, t, layer < 2, useMoreBits(layer, layers), q2)
	case suffix(".ffn_down.weight"):
		t = moreBits(m, t, layer < layers/16, useMoreBits(layer, layers), tensor.Q3_K)
	case suffix(".attn_output.weight"):
		switch m {
		case Q2_K:
			t = tensor.Q3_K
		case Q3_K_M:
			t = tensor.Q4_K
		}
	}
	if cols%t.BlockSize() != 0 {
		switch t {
		case tensor.Q2_K, tensor.Q3_K:
			t = tensor.Q4_0
		case tensor.Q4_K:
			t = tensor.Q5_0
		case tensor.Q5_K:
			t = tensor.Q5_1
		case tensor.Q6_K:
			t = tensor.Q8_0
		default:
			t = tensor.F16
		}
		if cols%t.BlockSize() != 0 {
			t = tensor.F16
		}
	}
	return t
}

// moreBits is the type attn_v and ffn_down get instead of t: in Q2_K
// files q2; in Q3_K_M files Q5_K in the early layers (early: the first two
// for attn_v, the first sixteenth for ffn_down), else Q4_K; in Q4_K_M and
// Q5_K_M files Q6_K where useMoreBits picks the layer (more).
func moreBits(m Mix, t tensor.Type, early, more bool, q2 tensor.Type) tensor.Type {
	switch {
	case m == Q2_K:
		return q2
	case m == Q3_K_M && early:
		return tensor.Q5_K
	case m == Q3_K_M:
		return tensor.Q4_K
	case (m == Q4_K_M || m == Q5_K_M) && more:
		return tensor.Q6_K
	}
	return t
}

// useMoreBits is llama.cpp's rule for the layers that get more bits in the
// _M mixes: the first and last eighth, and every third layer between.
func useMoreBits(layer, layers int) bool {
	return layer < layers/8 || layer >= 7*layers/8 || (layer-layers/8)%3 == 2
}

// DataBytes is the total size of the tensors' data, without the padding
// GGUF puts between tensors: what llama-bench reports as the model size.
func DataBytes(specs []TensorSpec) uint64 {
	var n uint64
	for _, t := range specs {
		n += t.Bytes()
	}
	return n
}
