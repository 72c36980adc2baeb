package loader

import "testing"

func TestSumSquares(t *testing.T) {
	b := make([]float32, 3<<18+5)
	var want float64
	for i := range b {
		b[i] = float32(i % 8)
		want += float64(i%8) * float64(i%8)
	}
	if s := sumSquares(b); s != want {
		t.Errorf("sumSquares = %g, want %g", s, want)
	}
}

func TestReadBandwidth(t *testing.T) {
	median, best, err := ReadBandwidth(make([]float32, 1<<20), 2, 3)
	if err != nil || !(median > 0) || best < median {
		t.Errorf("ReadBandwidth = %g median, %g best, %v", median, best, err)
	}
	if ProbeMemory() <= 0 {
		t.Error("ProbeMemory measured nothing")
	}
}
