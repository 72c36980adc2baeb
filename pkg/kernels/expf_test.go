package kernels

import (
	"math"
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
