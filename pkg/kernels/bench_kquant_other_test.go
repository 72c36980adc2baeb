//go:build !amd64 || purego

package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

type kquantBenchKernel struct {
	name      string
	dot       func(n int, w, a []byte) float32
	laneMajor bool
	packed    bool
}

func kquantBenchKernels(tensor.Type) []kquantBenchKernel { return nil }
