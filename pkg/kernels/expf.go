package kernels

import "math"

// expVec is ggml_v_expf as built for AVX-512 (ggml-cpu/vec.h, adapted from
// Arm's optimized routines): a degree-5 polynomial after range reduction,
// within 1.5 ulp of exp. llama.cpp computes softmax and SiLU with it, 16
// lanes at a time, so matching its bits keeps rounding-sensitive steps
// (F16 probabilities, Q8 activations) on the same side as llama.cpp's.
func expVec(x float32) float32 {
	const r = 0x1.8p23
	z := fma32(x, 0x1.715476p+0, r)
	n := z - r
	b := fnma32(n, 0x1.7f7d1cp-20, fnma32(n, 0x1.62e4p-1, x))
	u := b * b
	j := fma32(
		fma32(fma32(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma32(0x1.555e66p-3, b, 0x1.fffdb6p-2)),
		u,
		fma32(0x1.ffffecp-1, b, 1))
	if !(abs32(n) > 192) {
		return float32(math.Ldexp(float64(j), int(n)))
	}
	if n <= 0 {
		return 0
	}
	return float32(math.Inf(1))
}

// fma32 is a*b+c with one rounding to float32 (the product of two float32
// values is exact in float64, so only the final sum is rounded twice, which
// can differ from a true float32 FMA only on exact double-rounding ties).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// fnma32 is -(a*b)+c, as _mm512_fnmadd_ps.
func fnma32(a, b, c float32) float32 { return float32(math.FMA(-float64(a), float64(b), float64(c))) }
