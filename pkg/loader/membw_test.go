package loader

import "testing"

// fillSquares fills b with 0..7 repeated and returns its sum of squares.
func fillSquares(b []float32) (want float64) {
	for i := range b {
		b[i] = float32(i % 8)
		want += float64(i%8) * float64(i%8)
	}
	return want
}

func TestSumSquares(t *testing.T) {
	b := make([]float32, 3<<18+5)
	want := fillSquares(b)
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

// TestBandwidthBuffer: the probe's buffer is writable, zeroed, n floats
// long, and reads back what was written; n = 0 gives none.
func TestBandwidthBuffer(t *testing.T) {
	buf, free, err := BandwidthBuffer(3<<18 + 5)
	if err != nil {
		t.Fatal(err)
	}
	defer free()
	if len(buf) != 3<<18+5 || buf[0] != 0 || buf[len(buf)-1] != 0 {
		t.Fatalf("%d floats, first %g, last %g: want %d zeroed", len(buf), buf[0], buf[len(buf)-1], 3<<18+5)
	}
	want := fillSquares(buf)
	if s := sumSquares(buf); s != want {
		t.Errorf("sumSquares = %g, want %g", s, want)
	}
	if b, free0, err := BandwidthBuffer(0); err != nil || len(b) != 0 || free0() != nil {
		t.Errorf("BandwidthBuffer(0) = %d floats, %v", len(b), err)
	}
}
