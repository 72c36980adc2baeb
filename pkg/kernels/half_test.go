package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ggmlFP32ToFP16 is ggml's portable ggml_compute_fp32_to_fp16 (the
// scale-to-infinity-and-back trick), an independent way to the same
// rounding used as the oracle below. It differs only in NaN payloads.
func ggmlFP32ToFP16(f float32) uint16 {
	const scaleToInf = 0x1.0p+112
	const scaleToZero = 0x1.0p-110
	base := float32(float32(abs32(f)*scaleToInf) * scaleToZero) // rounded: no FMA into the add below
	w := math.Float32bits(f)
	shl1W := w + w
	sign := w & 0x80000000
	bias := shl1W & 0xFF000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = math.Float32frombits((bias>>1)+0x07800000) + base
	bits := math.Float32bits(base)
	expBits := (bits >> 13) & 0x00007C00
	mantBits := bits & 0x00000FFF
	nonsign := expBits + mantBits
	if shl1W > 0xFF000000 {
		nonsign = 0x7E00
	}
	return uint16(sign>>16) | uint16(nonsign)
}

func TestFP16KnownValues(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{0, 0x0000}, {float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {0.333251953125, 0x3555},
		{65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {-1e10, 0xfc00},
		{float32(math.Inf(1)), 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{0x1p-14, 0x0400},                     // smallest normal
		{0x1p-24, 0x0001},                     // smallest subnormal
		{0x1p-25, 0x0000},                     // tie between 0 and 2^-24: to even
		{0x1.000002p-25, 0x0001},              // just above the tie
		{0x3p-25, 0x0002},                     // tie between 1 and 2 ulps: to even
		{0x5p-25, 0x0002},                     // tie between 2 and 3 ulps: to even
		{0x1p-30, 0x0000}, {-0x1p-24, 0x8001}, // far below, negative subnormal
		{1 + 0x1p-11, 0x3c00}, {1 + 0x3p-11, 0x3c02}, // mantissa ties
		{0x1.ffep-15, 0x0400}, // subnormal rounding up into the normals
	} {
		if got := FP32ToFP16(c.f); got != c.h {
			t.Errorf("FP32ToFP16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	nan := math.Float32frombits(0x7fc00000)
	if h := FP32ToFP16(nan); h&0x7c00 != 0x7c00 || h&0x3ff == 0 || h&0x8000 != 0 {
		t.Errorf("FP32ToFP16(NaN) = %#04x, not a positive NaN", h)
	}
	if h := FP32ToFP16(math.Float32frombits(0xff800001)); h&0x7e00 != 0x7e00 || h&0x8000 == 0 {
		t.Errorf("FP32ToFP16(-sNaN) = %#04x, not a negative quiet NaN", h)
	}
}

// TestFP16AllValues decodes every half against the IEEE formula and
// encodes it back.
func TestFP16AllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := FP16ToFP32(h)
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
		var want float64
		switch exp {
		case 0:
			want = sign * mant * 0x1p-24
		case 0x1f:
			if mant != 0 {
				want = math.NaN()
			} else {
				want = sign * math.Inf(1)
			}
		default:
			want = sign * (1 + mant/1024) * math.Ldexp(1, exp-15)
		}
		if math.IsNaN(want) {
			if !math.IsNaN(float64(f)) || math.Signbit(float64(f)) != (sign < 0) {
				t.Fatalf("FP16ToFP32(%#04x) = %g, want a NaN of sign %g", h, f, sign)
			}
			// The payload is kept and made quiet on the way back.
			if back := FP32ToFP16(f); back != h|0x200 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if float64(f) != want || math.Signbit(float64(f)) != (sign < 0) {
			t.Fatalf("FP16ToFP32(%#04x) = %g, want %g", h, f, want)
		}
		if back := FP32ToFP16(f); back != h {
			t.Fatalf("FP32ToFP16(FP16ToFP32(%#04x)) = %#04x", h, back)
		}
	}
}

// TestFP16RoundingAgainstGGML compares with ggml's portable conversion on
// every float32 near each half and its midpoints, and on random bits.
func TestFP16RoundingAgainstGGML(t *testing.T) {
	check := func(f float32) {
		if math.IsNaN(float64(f)) {
			return
		}
		if got, want := FP32ToFP16(f), ggmlFP32ToFP16(f); got != want {
			t.Fatalf("FP32ToFP16(%g = %#08x) = %#04x, ggml gives %#04x", f, math.Float32bits(f), got, want)
		}
	}
	for i := 0; i < 1<<16; i++ {
		f := FP16ToFP32(uint16(i))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		next := FP16ToFP32(uint16(i) + 1)
		if uint16(i)&0x7fff == 0x7bff { // the largest finite: its next step is 65536
			next = float32(math.Copysign(65536, float64(f)))
		}
		mid := math.Float32bits((f + next) / 2)
		for d := uint32(0); d < 3; d++ {
			check(math.Float32frombits(mid + d))
			check(math.Float32frombits(mid - d))
		}
		check(math.Nextafter32(f, 0))
		check(math.Nextafter32(f, float32(math.Inf(1))))
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200000; i++ {
		check(math.Float32frombits(r.Uint32()))
	}
}

func TestBF16(t *testing.T) {
	for _, c := range []struct {
		bits uint32
		h    uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above the tie
		{0x7f7fffff, 0x7f80}, // largest float rounds to +Inf
		{0x7f800000, 0x7f80}, {0xff800000, 0xff80},
		{0x00010000, 0x0001}, // subnormals are kept, not flushed
		{0x80000000, 0x8000},
		{0x7f800001, 0x7fc0}, // signalling NaN made quiet
		{0xffc00001, 0xffc0},
	} {
		if got := FP32ToBF16(math.Float32frombits(c.bits)); got != c.h {
			t.Errorf("FP32ToBF16(%#08x) = %#04x, want %#04x", c.bits, got, c.h)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToFP32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToFP32(%#04x) = %#08x", h, math.Float32bits(f))
		}
		want := h
		if math.IsNaN(float64(f)) {
			want |= 0x40
		}
		if back := FP32ToBF16(f); back != want {
			t.Fatalf("FP32ToBF16(BF16ToFP32(%#04x)) = %#04x", h, back)
		}
	}
}
