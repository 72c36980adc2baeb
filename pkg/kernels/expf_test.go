package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestExpVec holds the vectorised exp to its documented accuracy (1.5 ulp
// plus rounding) over the range softmax and SiLU use, and to its limits.
func TestExpVec(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x < 88; x += 0.0013 {
		got := float64(expVec(x))
		want := math.Exp(float64(x))
		ulp := float64(math.Nextafter32(float32(want), float32(math.Inf(1)))) - float64(float32(want))
		if e := math.Abs(got-want) / ulp; e > worst {
			worst = e
		}
	}
	// 1.45 ulp + 0.5 for the final rounding, measured with the ulp of the
	// rounded result (half the true ulp just below a power of two).
	if worst > 2.5 {
		t.Errorf("worst error %.2f ulp, want ≤ 2.5", worst)
	}
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {float32(math.Inf(-1)), 0}, {-200, 0}, {200, float32(math.Inf(1))},
	} {
		if got := expVec(c.x); got != c.want {
			t.Errorf("expVec(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

// TestFMA32SingleRounding checks fma32 against a big-float evaluation on
// random operands and on sums built to land exactly on a float32 midpoint
// after a rounding to float64, where rounding twice gives the wrong
// neighbour.
func TestFMA32SingleRounding(t *testing.T) {
	exact := func(a, b, c float32) float32 {
		x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		x.Mul(x, new(big.Float).SetFloat64(float64(b)))
		x.Add(x, new(big.Float).SetFloat64(float64(c)))
		f, _ := x.Float32()
		return f
	}
	cases := [][3]float32{
		// 1774001 * 38737 = 2^36 + 1, so a*b = 2^-24 + 2^-60 and the
		// exact sum with 1 lies just above the float32 midpoint 1 + 2^-24:
		// rounded to float64 first it lands on the midpoint, then to even
		// (1); rounded once it goes up (1 + 2^-23).
		{1774001 * 0x1p-30, 38737 * 0x1p-30, 1},
		{-1774001 * 0x1p-30, 38737 * 0x1p-30, -1},
		{1774001 * 0x1p-31, 38737 * 0x1p-30, 0.5},
		{3, 5, -15}, {0, 7, -0}, {1e30, 1e30, 1},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		a := float32(r.NormFloat64())
		b := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(60)-30)))
		c := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(60)-30)))
		cases = append(cases, [3]float32{a, b, c})
		// Results below the float32 normal range, where the rounding
		// grid is coarser.
		a = float32(r.NormFloat64() * 0x1p-70)
		b = float32(r.NormFloat64() * 0x1p-70)
		c = float32(r.NormFloat64() * math.Exp2(float64(-126-r.IntN(24))))
		cases = append(cases, [3]float32{a, b, c})
	}
	for _, c := range cases {
		if got, want := fma32(c[0], c[1], c[2]), exact(c[0], c[1], c[2]); math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("fma32(%g, %g, %g) = %g, want %g", c[0], c[1], c[2], got, want)
		}
	}
}
