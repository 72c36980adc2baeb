//go:build amd64 && !purego

package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

type kquantBenchKernel struct {
	name      string
	dot       func(n int, w, a []byte) float32
	laneMajor bool
}

func kquantBenchKernels(w tensor.Type) []kquantBenchKernel {
	switch w {
	case tensor.Q4_K:
		return []kquantBenchKernel{{"avx2", dotQ4_KAVX2, false}, {"lm", dotQ4_KLMAVX2, true}}
	case tensor.Q6_K:
		return []kquantBenchKernel{{"avx2", dotQ6_KAVX2, false}, {"lm", dotQ6_KLMAVX2, true}}
	}
	return nil
}
