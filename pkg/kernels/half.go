package kernels

import "math"

// FP32ToFP16 rounds f to the nearest IEEE binary16 value, ties to even, as
// ggml's GGML_FP32_TO_FP16 does: too large values become ±Inf, tiny ones
// become half subnormals or ±0. A NaN stays a NaN of the same sign; like the
// x86 F16C instruction ggml uses on this machine, it keeps the top payload
// bits and sets the quiet bit.
func FP32ToFP16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff

	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}

	e := exp - 127 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Half subnormal: the value in units of 2^-24 is full >> shift.
		shift := uint(14 - e)
		if shift > 24 {
			return sign // below half the smallest subnormal: rounds to zero
		}
		full := mant | 0x800000
		return sign | uint16(roundShiftEven(full, shift))
	}
	// Normal half. A carry out of the mantissa bumps the exponent, and one
	// out of exponent 30 gives 0x7c00, infinity, as it should.
	return sign | uint16(uint32(e)<<10+roundShiftEven(mant, 13))
}

// roundShiftEven returns v >> s rounded to nearest, ties to even (s ≥ 1).
func roundShiftEven(v uint32, s uint) uint32 {
	q := v >> s
	rem := v & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// FP16ToFP32 converts an IEEE binary16 value to float32 exactly
// (subnormals, infinities and NaN payloads included).
func FP16ToFP32(h uint16) float32 { return fp16Table[h] }

// fp16Table holds every half value as float32, as ggml's ggml_table_f32_f16
// does: a load is cheaper than the bit fiddling on the dequantization paths.
var fp16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = fp16ToFP32Bits(uint16(i))
	}
	return &t
}()

func fp16ToFP32Bits(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal half: normalise into a float32 normal.
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// FP32ToBF16 rounds f to bfloat16, ties to even, as ggml's
// ggml_compute_fp32_to_bf16 does; a NaN is made quiet.
func FP32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}

// BF16ToFP32 widens a bfloat16 value to float32 (exact).
func BF16ToFP32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
