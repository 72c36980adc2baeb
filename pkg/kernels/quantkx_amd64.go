//go:build amd64 && !purego

package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

// installKQuantAVX2 puts the AVX2 lane-major k-quant kernels into
// kquantMatmul.
func installKQuantAVX2() {
	kquantMatmul[tensor.Q3_K] = &kquantKernels{dot: dotQ3_KLMAVX2, rows: dotQ3_KLMRowsAVX2, dot4: dotQ3_KLMx4AVX2, dot8: dotQ3_KLMx8AVX2, quantize: quantizeQ8KLMAVX2,
		packed: &kquantKernels{dot: dotQ3_KLMPAVX2, rows: dotQ3_KLMPRowsAVX2, dot4: dotQ3_KLMPx4AVX2, dot8: dotQ3_KLMPx8AVX2, quantize: quantizeQ8KLMAVX2}}
	kquantMatmul[tensor.Q4_K] = &kquantKernels{dot: dotQ4_KLMAVX2, rows: dotQ4_KLMRowsAVX2, dot4: dotQ4_KLMx4AVX2, dot8: dotQ4_KLMx8AVX2, quantize: quantizeQ8KLMAVX2,
		packed: &kquantKernels{dot: dotQ4_KLMPAVX2, rows: dotQ4_KLMPRowsAVX2, dot4: dotQ4_KLMPx4AVX2, dot8: dotQ4_KLMPx8AVX2, quantize: quantizeQ8KLMAVX2}}
	kquantMatmul[tensor.Q5_K] = &kquantKernels{dot: dotQ5_KLMAVX2, rows: dotQ5_KLMRowsAVX2, dot4: dotQ5_KLMx4AVX2, dot8: dotQ5_KLMx8AVX2, quantize: quantizeQ8KLMAVX2,
		packed: &kquantKernels{dot: dotQ5_KLMPAVX2, rows: dotQ5_KLMPRowsAVX2, dot4: dotQ5_KLMPx4AVX2, dot8: dotQ5_KLMPx8AVX2, quantize: quantizeQ8KLMAVX2}}
	kquantMatmul[tensor.Q6_K] = &kquantKernels{dot: dotQ6_KLMAVX2, rows: dotQ6_KLMRowsAVX2, dot4: dotQ6_KLMx4AVX2, dot8: dotQ6_KLMx8AVX2, quantize: quantizeQ8KLMAVX2,
		packed: &kquantKernels{dot: dotQ6_KLMPAVX2, rows: dotQ6_KLMPRowsAVX2, dot4: dotQ6_KLMPx4AVX2, dot8: dotQ6_KLMPx8AVX2, quantize: quantizeQ8KLMAVX2}}
}

//go:generate go run gen_lmp.go

// The dotQ*_KLMP* kernels (dotkxp_amd64.s, generated from dotkx_amd64.s)
// are the dotQ*_KLM* ones for weights in LayoutLaneMajor.

func dotQ3_KLMPAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ3_KLMPRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ4_KLMPAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ4_KLMPRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ5_KLMPAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ5_KLMPRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ6_KLMPAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ6_KLMPRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

//go:noescape
func dotQ3_KLMPx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ4_KLMPx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ5_KLMPx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ6_KLMPx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ3_KLMPx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ4_KLMPx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ5_KLMPx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ6_KLMPx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ3_KLMPRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ4_KLMPRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ5_KLMPRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ6_KLMPRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

// Implemented in dotkx_amd64.s: as the dotQ*_KAVX2 kernels, with a in
// the lane-major layout (laneMajorQ8K).

// dotQ3_KLMAVX2, dotQ4_KLMAVX2, dotQ5_KLMAVX2 and dotQ6_KLMAVX2 are the
// one-row kernels: the many-row ones for one weight row.
func dotQ3_KLMAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ3_KLMRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ4_KLMAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ4_KLMRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ5_KLMAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ5_KLMRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

func dotQ6_KLMAVX2(n int, w, a []byte) float32 {
	var out [1]float32
	dotQ6_KLMRowsAVX2(n, w, len(w), a, out[:])
	return out[0]
}

//go:noescape
func dotQ3_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ4_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ5_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ6_KLMx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32)

//go:noescape
func dotQ3_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ4_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ5_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

//go:noescape
func dotQ6_KLMx8AVX2(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)

// quantizeQ8KLMAVX2 is quantizeQ8_K then laneMajorQ8K in one pass: dst
// gets len(src)/256 lane-major blocks.
//
//go:noescape
func quantizeQ8KLMAVX2(dst []byte, src []float32)

//go:noescape
func dotQ3_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ4_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ5_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ6_KLMRowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)
