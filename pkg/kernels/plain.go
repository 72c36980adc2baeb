package kernels

import (
	"encoding/binary"
	"math"
)

// The plain types: F32, F16 and BF16, one element at a time, little-endian.
// Their dot products sum in float64 (ggml_float), as ggml's scalar
// ggml_vec_dot_f32/_f16/_bf16 do, each product rounded to float32 first.

var nan32 = float32(math.NaN())

func f16At(b []byte, off int) float32 { return FP16ToFP32(binary.LittleEndian.Uint16(b[off:])) }

func putF16(b []byte, off int, f float32) { binary.LittleEndian.PutUint16(b[off:], FP32ToFP16(f)) }

func dequantF32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func quantizeF32(dst []byte, src []float32) {
	dst = dst[:4*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
	}
}

func dotF32(n int, w, a []byte) float32 {
	w, a = w[:4*n], a[:4*n]
	var sum float64
	for i := 0; i < 4*n; i += 4 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(w[i:]))
		y := math.Float32frombits(binary.LittleEndian.Uint32(a[i:]))
		sum += float64(x * y)
	}
	return float32(sum)
}

func dequantF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = FP16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantizeF16(dst []byte, src []float32) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToFP16(v))
	}
}

func dotF16(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	var sum float64
	for i := 0; i < 2*n; i += 2 {
		x := FP16ToFP32(binary.LittleEndian.Uint16(w[i:]))
		y := FP16ToFP32(binary.LittleEndian.Uint16(a[i:]))
		sum += float64(x * y)
	}
	return float32(sum)
}

func dequantBF16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = BF16ToFP32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func quantizeBF16(dst []byte, src []float32) {
	dst = dst[:2*len(src)]
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FP32ToBF16(v))
	}
}

func dotBF16(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	var sum float64
	for i := 0; i < 2*n; i += 2 {
		x := BF16ToFP32(binary.LittleEndian.Uint16(w[i:]))
		y := BF16ToFP32(binary.LittleEndian.Uint16(a[i:]))
		sum += float64(x * y)
	}
	return float32(sum)
}
