//go:build amd64 && !purego

package kernels

import (
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

type kquantBenchKernel struct {
	name      string
	dot       func(n int, w, a []byte) float32
	laneMajor bool
	packed    bool // weights in LayoutLaneMajor
}

func kquantBenchKernels(w tensor.Type) []kquantBenchKernel {
	switch w {
	case tensor.Q3_K:
		return []kquantBenchKernel{{"avx2", dotQ3_KAVX2, false, false}}
	case tensor.Q4_K:
		return []kquantBenchKernel{{"avx2", dotQ4_KAVX2, false, false}, {"lm", dotQ4_KLMAVX2, true, false}, {"lmp", dotQ4_KLMPAVX2, true, true}}
	case tensor.Q6_K:
		return []kquantBenchKernel{{"avx2", dotQ6_KAVX2, false, false}, {"lm", dotQ6_KLMAVX2, true, false}, {"lmp", dotQ6_KLMPAVX2, true, true}}
	}
	return nil
}

// BenchmarkKQuantLaneMajorBatch times the four- and eight-activation-row
// lane-major kernels ("lm") and their LayoutLaneMajor twins ("lmp") on one
// KQ_N-element weight row in L1; ns/op is per weight row (all rows).
func BenchmarkKQuantLaneMajorBatch(b *testing.B) {
	if !PathSupported(PathAVX2) {
		b.Skip("no AVX2")
	}
	n := kquantBenchN
	nb := n / qkK
	for _, w := range []tensor.Type{tensor.Q4_K, tensor.Q6_K} {
		data, rb, ab := kquantBenchRows(b, w, 1)
		packed := laneMajorRow(b, w, data[:rb])
		lm := toLaneMajor(ab)
		acts := alignedBytes(8 * len(lm))
		g := make([]byte, nb*lmGroupBlockBytes)
		for k := 0; k < 8; k++ {
			copy(acts[k*len(lm):], lm)
			lmGroupFill(g, lm, nb, k)
		}
		var k4 [2]func(int, []byte, []byte, int, *[4]float32)
		var k8 [2]func(int, []byte, []byte, int, []byte, *[8]float32)
		if w == tensor.Q4_K {
			k4 = [2]func(int, []byte, []byte, int, *[4]float32){dotQ4_KLMx4AVX2, dotQ4_KLMPx4AVX2}
			k8 = [2]func(int, []byte, []byte, int, []byte, *[8]float32){dotQ4_KLMx8AVX2, dotQ4_KLMPx8AVX2}
		} else {
			k4 = [2]func(int, []byte, []byte, int, *[4]float32){dotQ6_KLMx4AVX2, dotQ6_KLMPx4AVX2}
			k8 = [2]func(int, []byte, []byte, int, []byte, *[8]float32){dotQ6_KLMx8AVX2, dotQ6_KLMPx8AVX2}
		}
		for i, name := range []string{"lm", "lmp"} {
			wr := data[:rb]
			if i == 1 {
				wr = packed
			}
			b.Run(w.String()+"/x4/"+name, func(b *testing.B) {
				var out [4]float32
				for b.Loop() {
					k4[i](n, wr, acts, len(lm), &out)
				}
			})
			b.Run(w.String()+"/x8/"+name, func(b *testing.B) {
				var out [8]float32
				for b.Loop() {
					k8[i](n, wr, acts, len(lm), g, &out)
				}
			})
		}
	}
}
