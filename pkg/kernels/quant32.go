package kernels

import (
	"encoding/binary"
	"math"
)

// The 32-element block formats, ported from ggml-quants.c
// (quantize_row_*_ref, dequantize_row_*) and ggml-cpu/quants.c
// (ggml_vec_dot_*_generic). Layouts, little-endian:
//
//	Q4_0 {f16 d; u8 qs[16]}                 x = (q-8)*d
//	Q4_1 {f16 d, m; u8 qs[16]}              x = q*d + m
//	Q5_0 {f16 d; u8 qh[4]; u8 qs[16]}       x = (q-16)*d
//	Q5_1 {f16 d, m; u8 qh[4]; u8 qs[16]}    x = q*d + m
//	Q8_0 {f16 d; i8 qs[32]}                 x = q*d
//	Q8_1 {f16 d, s; i8 qs[32]}              x = q*d, s = d*sum(q)
//
// In the 4-bit formats byte j holds element j in its low nibble and element
// j+16 in its high nibble; in the 5-bit ones bit j of qh is the fifth bit of
// element j.

const qk32 = 32

const (
	q4_0Bytes = 2 + 16
	q4_1Bytes = 2 + 2 + 16
	q5_0Bytes = 2 + 4 + 16
	q5_1Bytes = 2 + 2 + 4 + 16
	q8_0Bytes = 2 + 32
	q8_1Bytes = 2 + 2 + 32
)

// truncInt8 is C's (int8_t) cast of a float: truncate toward zero to int,
// keep the low 8 bits.
func truncInt8(f float32) int { return int(int8(int32(f))) }

// absMax returns the element of largest magnitude (the first one on ties)
// and its magnitude, as the ggml encoders find it.
func absMax(x []float32) (max, amax float32) {
	for _, v := range x {
		if av := abs32(v); amax < av {
			amax, max = av, v
		}
	}
	return max, amax
}

// minMax returns the smallest and largest element, starting from
// ±FLT_MAX as ggml does.
func minMax(x []float32) (min, max float32) {
	min, max = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < min {
			min = v
		}
		if v > max {
			max = v
		}
	}
	return min, max
}

// cmax is C's MAX(a, b) macro: a > b ? a : b.
func cmax(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

func abs32(f float32) float32 { return math.Float32frombits(math.Float32bits(f) &^ (1 << 31)) }

func inverse(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// ---- Q4_0

func quantizeQ4_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q4_0Bytes : (b+1)*q4_0Bytes]
		max, _ := absMax(x)
		d := max / -8
		id := inverse(d)
		putF16(y, 0, d)
		for j := 0; j < 16; j++ {
			lo := min(15, truncInt8(float32(x[j]*id)+8.5))
			hi := min(15, truncInt8(float32(x[j+16]*id)+8.5))
			y[2+j] = uint8(lo) | uint8(hi)<<4
		}
	}
}

// q4_0Nibble returns element e (0-31) of a Q4_0 block, 0-15 (the level
// + 8), from its 16 level bytes qs: elements 0-15 are the low nibbles,
// 16-31 the high ones.
func q4_0Nibble(qs []byte, e int) byte {
	b := qs[e%16]
	if e >= 16 {
		b >>= 4
	}
	return b & 15
}

func dequantQ4_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q4_0Bytes : (b+1)*q4_0Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d := f16At(x, 0)
		for j := 0; j < 16; j++ {
			y[j] = float32(int(x[2+j]&0xf)-8) * d
			y[j+16] = float32(int(x[2+j]>>4)-8) * d
		}
	}
}

// dotQ4_0 and dotQ8_0 follow llama.cpp's AVX2 ggml_vec_dot_q4_0_q8_0 and
// _q8_0_q8_0 (and llamafile's tinyBLAS, which has the same shape): each
// block's 32 integer products are summed in eight lanes of four, each lane
// accumulates d·lane with a fused multiply-add across blocks, and the lanes
// are added as hsum_float_8 does. ggml's generic C sums the whole block and
// rounds twice; the difference is an ulp, but it flips later roundings.
func dotQ4_0(n int, w, a []byte) float32 {
	var acc [8]float32
	for b := 0; b < n/qk32; b++ {
		x := w[b*q4_0Bytes : (b+1)*q4_0Bytes]
		y := a[b*q8_0Bytes : (b+1)*q8_0Bytes]
		qs, q8 := x[2:18], y[2:34]
		var qx [32]int32
		for j := 0; j < 16; j++ {
			qx[j] = int32(qs[j]&0xf) - 8
			qx[j+16] = int32(qs[j]>>4) - 8
		}
		d := float32(f16At(x, 0) * f16At(y, 0))
		for l := 0; l < 8; l++ {
			var s int32
			for j := 4 * l; j < 4*l+4; j++ {
				s += qx[j] * int32(int8(q8[j]))
			}
			acc[l] = fma32(d, float32(s), acc[l])
		}
	}
	return hsumFloat8(acc)
}

// ---- Q4_1

func quantizeQ4_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q4_1Bytes : (b+1)*q4_1Bytes]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		id := inverse(d)
		putF16(y, 0, d)
		putF16(y, 2, lo)
		for j := 0; j < 16; j++ {
			q0 := min(15, truncInt8(float32((x[j]-lo)*id)+0.5))
			q1 := min(15, truncInt8(float32((x[j+16]-lo)*id)+0.5))
			y[4+j] = uint8(q0) | uint8(q1)<<4
		}
	}
}

func dequantQ4_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q4_1Bytes : (b+1)*q4_1Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d, m := f16At(x, 0), f16At(x, 2)
		for j := 0; j < 16; j++ {
			y[j] = float32(float32(x[4+j]&0xf)*d) + m
			y[j+16] = float32(float32(x[4+j]>>4)*d) + m
		}
	}
}

func dotQ4_1(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/qk32; b++ {
		x := w[b*q4_1Bytes : (b+1)*q4_1Bytes]
		y := a[b*q8_1Bytes : (b+1)*q8_1Bytes]
		qs, q8 := x[4:20], y[4:36]
		var s0, s1 int32
		for j := 0; j < 16; j++ {
			s0 += int32(qs[j]&0xf) * int32(int8(q8[j]))
			s1 += int32(qs[j]>>4) * int32(int8(q8[j+16]))
		}
		dd := f16At(x, 0) * f16At(y, 0)
		sum += float32(dd*float32(s0+s1)) + float32(f16At(x, 2)*f16At(y, 2))
	}
	return sum
}

// ---- Q5_0

func quantizeQ5_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q5_0Bytes : (b+1)*q5_0Bytes]
		max, _ := absMax(x)
		d := max / -16
		id := inverse(d)
		putF16(y, 0, d)
		var qh uint32
		for j := 0; j < 16; j++ {
			q0 := uint8(min(31, truncInt8(float32(x[j]*id)+16.5)))
			q1 := uint8(min(31, truncInt8(float32(x[j+16]*id)+16.5)))
			y[6+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
		}
		binary.LittleEndian.PutUint32(y[2:], qh)
	}
}

func dequantQ5_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q5_0Bytes : (b+1)*q5_0Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d := f16At(x, 0)
		qh := binary.LittleEndian.Uint32(x[2:])
		for j := 0; j < 16; j++ {
			h0 := int(qh>>j&1) << 4
			h1 := int(qh>>(j+16)&1) << 4
			y[j] = float32(int(x[6+j]&0xf)|h0-16) * d
			y[j+16] = float32(int(x[6+j]>>4)|h1-16) * d
		}
	}
}

func dotQ5_0(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/qk32; b++ {
		x := w[b*q5_0Bytes : (b+1)*q5_0Bytes]
		y := a[b*q8_0Bytes : (b+1)*q8_0Bytes]
		qh := binary.LittleEndian.Uint32(x[2:])
		qs, q8 := x[6:22], y[2:34]
		var s0, s1 int32
		for j := 0; j < 16; j++ {
			v0 := int32(qs[j]&0xf) | int32(qh>>j&1)<<4 - 16
			v1 := int32(qs[j]>>4) | int32(qh>>(j+16)&1)<<4 - 16
			s0 += v0 * int32(int8(q8[j]))
			s1 += v1 * int32(int8(q8[j+16]))
		}
		sum += float32(f16At(x, 0) * f16At(y, 0) * float32(s0+s1))
	}
	return sum
}

// ---- Q5_1

func quantizeQ5_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q5_1Bytes : (b+1)*q5_1Bytes]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		id := inverse(d)
		putF16(y, 0, d)
		putF16(y, 2, lo)
		var qh uint32
		for j := 0; j < 16; j++ {
			q0 := uint8(int32(float32((x[j]-lo)*id) + 0.5))
			q1 := uint8(int32(float32((x[j+16]-lo)*id) + 0.5))
			y[8+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
		}
		binary.LittleEndian.PutUint32(y[4:], qh)
	}
}

func dequantQ5_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q5_1Bytes : (b+1)*q5_1Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d, m := f16At(x, 0), f16At(x, 2)
		qh := binary.LittleEndian.Uint32(x[4:])
		for j := 0; j < 16; j++ {
			q0 := x[8+j]&0xf | uint8(qh>>j&1)<<4
			q1 := x[8+j]>>4 | uint8(qh>>(j+16)&1)<<4
			y[j] = float32(float32(q0)*d) + m
			y[j+16] = float32(float32(q1)*d) + m
		}
	}
}

func dotQ5_1(n int, w, a []byte) float32 {
	var sum float32
	for b := 0; b < n/qk32; b++ {
		x := w[b*q5_1Bytes : (b+1)*q5_1Bytes]
		y := a[b*q8_1Bytes : (b+1)*q8_1Bytes]
		qh := binary.LittleEndian.Uint32(x[4:])
		qs, q8 := x[8:24], y[4:36]
		var s0, s1 int32
		for j := 0; j < 16; j++ {
			v0 := int32(qs[j]&0xf) | int32(qh>>j&1)<<4
			v1 := int32(qs[j]>>4) | int32(qh>>(j+16)&1)<<4
			s0 += v0 * int32(int8(q8[j]))
			s1 += v1 * int32(int8(q8[j+16]))
		}
		dd := f16At(x, 0) * f16At(y, 0)
		sum += float32(dd*float32(s0+s1)) + float32(f16At(x, 2)*f16At(y, 2))
	}
	return sum
}

// ---- Q8_0

func quantizeQ8_0(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q8_0Bytes : (b+1)*q8_0Bytes]
		var amax float32
		for _, v := range x {
			amax = cmax(amax, abs32(v))
		}
		d := amax / 127
		id := inverse(d)
		putF16(y, 0, d)
		for j, v := range x {
			y[2+j] = uint8(roundToInt8(v * id))
		}
	}
}

// roundToInt8 is C's (int8_t)roundf(f): half away from zero, low 8 bits.
func roundToInt8(f float32) int8 { return int8(int32(math.Round(float64(f)))) }

func dequantQ8_0(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q8_0Bytes : (b+1)*q8_0Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d := f16At(x, 0)
		for j := range y {
			y[j] = float32(int8(x[2+j])) * d
		}
	}
}

func dotQ8_0(n int, w, a []byte) float32 {
	var acc [8]float32
	for b := 0; b < n/qk32; b++ {
		x := w[b*q8_0Bytes : (b+1)*q8_0Bytes]
		y := a[b*q8_0Bytes : (b+1)*q8_0Bytes]
		qx, qy := x[2:34], y[2:34]
		d := float32(f16At(x, 0) * f16At(y, 0))
		for l := 0; l < 8; l++ {
			var s int32
			for j := 4 * l; j < 4*l+4; j++ {
				s += int32(int8(qx[j])) * int32(int8(qy[j]))
			}
			acc[l] = fma32(d, float32(s), acc[l])
		}
	}

	return hsumFloat8(acc)
}

// ---- Q8_1

func quantizeQ8_1(dst []byte, src []float32) {
	for b := 0; b < len(src)/qk32; b++ {
		x := src[b*qk32 : (b+1)*qk32]
		y := dst[b*q8_1Bytes : (b+1)*q8_1Bytes]
		var amax float32
		for _, v := range x {
			amax = cmax(amax, abs32(v))
		}
		d := amax / 127
		id := inverse(d)
		putF16(y, 0, d)
		var sum int
		for j, v := range x {
			q := roundToInt8(v * id)
			y[4+j] = uint8(q)
			sum += int(q)
		}
		putF16(y, 2, float32(sum)*d)
	}
}

func dequantQ8_1(dst []float32, src []byte) {
	for b := 0; b < len(dst)/qk32; b++ {
		x := src[b*q8_1Bytes : (b+1)*q8_1Bytes]
		y := dst[b*qk32 : (b+1)*qk32]
		d := f16At(x, 0)
		for j := range y {
			y[j] = float32(int8(x[4+j])) * d
		}
	}
}

// hsumFloat8 adds eight lanes in hsum_float_8's order: high half onto low
// half, then pairs, then the last two.
func hsumFloat8(v [8]float32) float32 {
	r0, r1, r2, r3 := v[4]+v[0], v[5]+v[1], v[6]+v[2], v[7]+v[3]
	return (r0 + r2) + (r1 + r3)
}
