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

// fma32 is a*b+c rounded once to float32, as a hardware vfmadd does. The
// product of two float32 values is exact in float64, so s = p+c is the
// exact result rounded once; rounding s again to float32 is wrong only when
// s sits exactly on a midpoint between two float32 values (or is below the
// float32 normal range, where the midpoints lie elsewhere). There TwoSum
// gives the exact error and s is rounded to odd instead (the neighbour
// with an odd last bit when inexact), which is exact to round again: 53
// bits leave more than the two guard bits that needs.
func fma32(a, b, c float32) float32 {
	p, z := float64(a)*float64(b), float64(c)
	s := p + z
	bits := math.Float64bits(s)
	if bits&(1<<29-1) != 1<<28 && bits&^(1<<63) >= 0x3810000000000000 { // not a midpoint, |s| >= 2^-126
		return float32(s)
	}
	bb := s - p
	e := (p - (s - bb)) + (z - bb) // s + e == p + z exactly; NaN when s is not finite
	if e != 0 && e == e && bits&1 == 0 {
		if (e > 0) == (s > 0) {
			bits++ // the exact value lies beyond s, away from zero
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}

// fnma32 is -(a*b)+c, as _mm512_fnmadd_ps.
func fnma32(a, b, c float32) float32 { return fma32(-a, b, c) }

// FMA32 is a*b+c rounded once to float32, as a hardware fused multiply-add:
// for callers outside this package that reproduce SIMD arithmetic.
func FMA32(a, b, c float32) float32 { return fma32(a, b, c) }
