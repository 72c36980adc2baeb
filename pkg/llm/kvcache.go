package llm

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/kernels"
)

// KVType is the element type of the KV cache.
type KVType int

// The cache types: F32 is exact; F16 halves the cache and is llama.cpp's
// default, which matters when comparing logits with it.
const (
	KVF32 KVType = iota
	KVF16
)

func (t KVType) String() string {
	if t == KVF16 {
		return "f16"
	}
	return "f32"
}

// ParseKVType accepts "f32" or "f16", as llama.cpp's --cache-type-k does.
func ParseKVType(s string) (KVType, error) {
	switch s {
	case "f32", "F32":
		return KVF32, nil
	case "f16", "F16":
		return KVF16, nil
	}
	return 0, fmt.Errorf("cache type %q is not supported (f32, f16)", s)
}

// kvCache holds keys and values of every layer for positions [0, ctx).
// Values are stored rounded to the cache type even in the F32 slices, so the
// attention code reads one representation; F16 storage keeps the bytes.
type kvCache struct {
	typ        KVType
	ctx, kvDim int
	k32, v32   [][]float32 // [layer][pos*kvDim + j]  (F32)
	k16, v16   [][]uint16  // (F16)
}

func newKVCache(typ KVType, layers, ctx, kvDim int) *kvCache {
	c := &kvCache{typ: typ, ctx: ctx, kvDim: kvDim}
	for l := 0; l < layers; l++ {
		if typ == KVF16 {
			c.k16 = append(c.k16, make([]uint16, ctx*kvDim))
			c.v16 = append(c.v16, make([]uint16, ctx*kvDim))
		} else {
			c.k32 = append(c.k32, make([]float32, ctx*kvDim))
			c.v32 = append(c.v32, make([]float32, ctx*kvDim))
		}
	}
	return c
}

// Bytes is the memory the cache holds.
func (c *kvCache) Bytes() int64 {
	per := int64(4)
	if c.typ == KVF16 {
		per = 2
	}
	return 2 * per * int64(len(c.k32)+len(c.k16)) * int64(c.ctx) * int64(c.kvDim)
}

func (c *kvCache) store(layer, pos int, k, v []float32) {
	off := pos * c.kvDim
	if c.typ == KVF16 {
		kd, vd := c.k16[layer][off:off+c.kvDim], c.v16[layer][off:off+c.kvDim]
		for j := range kd {
			kd[j] = kernels.FP32ToFP16(k[j])
			vd[j] = kernels.FP32ToFP16(v[j])
		}
		return
	}
	copy(c.k32[layer][off:off+c.kvDim], k)
	copy(c.v32[layer][off:off+c.kvDim], v)
}

// attnScratch is one worker's scratch for attend, sized for the context.
type attnScratch struct {
	att []float32 // scores, then probabilities
	col []uint16  // one column of an F16 V, gathered for its dot product
}

func newAttnScratch(ctx int) *attnScratch {
	return &attnScratch{att: make([]float32, ctx), col: make([]uint16, ctx)}
}

// attend computes one head's attention output for a query at position pos
// over cached positions [0, pos]: out = softmax(q·K/sqrt(d)) · V. off selects
// the kv head's columns.
func (c *kvCache) attend(layer, pos, off int, q, out []float32, sc *attnScratch, scale float32) {
	att := sc.att[:pos+1]
	if c.typ == KVF16 {
		c.attendF16(layer, off, q, out, att, sc.col[:pos+1], scale)
		return
	}
	kernels.DotRows(att, q, c.k32[layer][off:], c.kvDim)
	for t := range att {
		att[t] *= scale
	}
	kernels.Softmax(att)
	kernels.WeightedSum(out, att, c.v32[layer][off:], c.kvDim)
}

// attendF16 follows llama.cpp's default (non flash-attention) path over an
// F16 cache, rounding where it rounds: the query is converted to F16 for the
// K·q products, the softmax probabilities to F16 for the product with V, and
// each product is ggml_vec_dot_f16's (see dotF16).
func (c *kvCache) attendF16(layer, off int, q, out, att []float32, col []uint16, scale float32) {
	hd := len(q)
	var buf [512]float32
	qh := buf[:0]
	if hd > len(buf) {
		qh = make([]float32, 0, hd)
	}
	for _, x := range q {
		qh = append(qh, kernels.FP16ToFP32(kernels.FP32ToFP16(x)))
	}
	ks := c.k16[layer]
	for t := range att {
		att[t] = dotF16(qh, ks[t*c.kvDim+off:t*c.kvDim+off+hd]) * scale
	}
	kernels.Softmax(att)
	for t := range att {
		att[t] = kernels.FP16ToFP32(kernels.FP32ToFP16(att[t]))
	}
	// V is multiplied as a transposed matrix: one dot product over
	// positions per output element.
	vs := c.v16[layer]
	for j := range out {
		for t := range att {
			col[t] = vs[t*c.kvDim+off+j]
		}
		out[j] = dotF16(att, col)
	}
}

// dotF16 is ggml_vec_dot_f16 as built for AVX-512: blocks of 64 products
// summed in four 16-lane float32 accumulators with fused multiply-adds,
// reduced pairwise, then the tail in float64. Matching its rounding keeps
// the logits within a few ulps of llama.cpp's on an F16 cache.
func dotF16(x []float32, y []uint16) float32 {
	n := len(y)
	np := n &^ 63
	var sum float64
	if np > 0 {
		var acc [4][16]float32
		for i := 0; i < np; i += 64 {
			for a := 0; a < 4; a++ {
				for l := 0; l < 16; l++ {
					k := i + a*16 + l
					acc[a][l] = kernels.FMA32(x[k], kernels.FP16ToFP32(y[k]), acc[a][l])
				}
			}
		}
		for l := 0; l < 16; l++ {
			acc[0][l] += acc[1][l]
			acc[2][l] += acc[3][l]
			acc[0][l] += acc[2][l]
		}
		// _mm512_reduce_add_ps: halves added until one lane is left.
		v := acc[0]
		for w := 8; w >= 1; w /= 2 {
			for l := 0; l < w; l++ {
				v[l] += v[l+w]
			}
		}
		sum = float64(v[0])
	}
	for i := np; i < n; i++ {
		sum += float64(x[i] * kernels.FP16ToFP32(y[i]))
	}
	return float32(sum)
}
