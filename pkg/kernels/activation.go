package kernels

import (
	"fmt"
	"math"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Activations are quantized the way llama.cpp quantizes them at run time on
// x86 (AVX2/AVX-512 builds of quantize_row_q8_0 and quantize_row_q8_1),
// which is not ggml's reference quantizer that files are written with: the
// scale is 127/amax instead of 1/(amax/127), and halves round to even
// instead of away from zero. The two differ on a few values per thousand,
// and each difference moves a logit; matching the run-time one keeps
// quantized models within 1e-5 of llama.cpp's logits instead of ~0.2.
// Q8_K (the k-quants' activations) uses the reference on x86 too.

// QuantizeActivations converts src to t as MatMul does before a dot product:
// t is an ActivationType. dst needs t.RowBytes(len(src)) bytes.
func QuantizeActivations(t tensor.Type, dst []byte, src []float32) error {
	q := activationQuantizer(t)
	if q == nil {
		return fmt.Errorf("kernels: %s is not an activation type", t)
	}
	n, err := t.RowBytes(len(src))
	if err != nil {
		return fmt.Errorf("kernels: quantize activations: %w", err)
	}
	if len(dst) < n {
		return fmt.Errorf("kernels: quantize activations: %s of %d values needs %d bytes, dst has %d", t, len(src), n, len(dst))
	}
	q(dst, src)
	return nil
}

func activationQuantizer(t tensor.Type) func(dst []byte, src []float32) {
	switch t {
	case tensor.Q8_0:
		return quantizeQ8_0Act
	case tensor.Q8_1:
		return quantizeQ8_1Runtime
	case tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_K:
		return typeKernels[t].quantize
	}
	return nil
}

// runtimeScale returns the block's scale d and its inverse as the x86 code
// computes them: d = amax/127, id = 127/amax.
func runtimeScale(x []float32) (d, id float32) {
	var amax float32
	for _, v := range x {
		amax = cmax(amax, abs32(v))
	}
	if amax != 0 {
		id = 127 / amax
	}
	return amax / 127, id
}

// roundEvenToInt8 is _mm256_round_ps(x, _MM_ROUND_NEAREST), the
// conversion to int32 and the saturating packs. |x| ≤ 127 but in one case:
// a block whose amax is below 127/FLT_MAX makes id infinite, x*id
// infinite or NaN, which the conversion turns into INT32_MIN and the packs
// into -128 (the block's f16 scale is 0 then, so the value does not count).
func roundEvenToInt8(f float32) int8 {
	r := math.RoundToEven(float64(f))
	if !(r >= math.MinInt32 && r <= math.MaxInt32) {
		return math.MinInt8
	}
	return int8(min(max(r, math.MinInt8), math.MaxInt8))
}

func quantizeQ8_0Runtime(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q8_0Bytes : (b+1)*q8_0Bytes]
		d, id := runtimeScale(x)
		putF16(y, 0, d)
		for j, v := range x {
			y[2+j] = uint8(roundEvenToInt8(float32(v * id)))
		}
	}
}

func quantizeQ8_1Runtime(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q8_1Bytes : (b+1)*q8_1Bytes]
		d, id := runtimeScale(x)
		putF16(y, 0, d)
		var sum int32
		for j, v := range x {
			q := roundEvenToInt8(float32(v * id))
			y[4+j] = uint8(q)
			sum += int32(q)
		}
		putF16(y, 2, float32(d*float32(sum)))
	}
}
