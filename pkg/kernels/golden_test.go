package kernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// goldenVectors reads quant_vectors.gguf: the 8x512 source rows and ggml's
// encodings of them with ggml's own dequantizations.
func goldenVectors(t *testing.T) (*gguf.File, []float32, int, int) {
	t.Helper()
	f, err := gguf.Open(shareddata.Path(t, "reference/quant_vectors.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info, ok := f.Tensor("src")
	if !ok || info.Type != tensor.F32 || len(info.Shape) != 2 {
		t.Fatalf("src tensor: %+v, found %v", info, ok)
	}
	cols, rows := int(info.Shape[0]), int(info.Shape[1])
	raw, err := f.TensorData("src")
	if err != nil {
		t.Fatal(err)
	}
	src := make([]float32, rows*cols)
	if err := DequantizeRow(tensor.F32, src, raw); err != nil {
		t.Fatal(err)
	}
	return f, src, rows, cols
}

func TestGoldenQuantVectors(t *testing.T) {
	f, src, rows, cols := goldenVectors(t)
	for _, c := range []struct {
		name string
		typ  tensor.Type
	}{
		{"f16", tensor.F16}, {"q8_0", tensor.Q8_0}, {"q4_0", tensor.Q4_0}, {"q4_k", tensor.Q4_K}, {"q6_k", tensor.Q6_K},
	} {
		t.Run(c.typ.String(), func(t *testing.T) {
			info, ok := f.Tensor(c.name)
			if !ok || info.Type != c.typ {
				t.Fatalf("tensor %q: %+v, found %v", c.name, info, ok)
			}
			want, err := f.TensorData(c.name)
			if err != nil {
				t.Fatal(err)
			}
			deqRaw, err := f.TensorData(c.name + ".deq")
			if err != nil {
				t.Fatal(err)
			}
			rb, _ := c.typ.RowBytes(cols)
			if len(want) != rows*rb || len(deqRaw) != 4*rows*cols {
				t.Fatalf("sizes: %d encoded bytes (want %d), %d dequantized bytes", len(want), rows*rb, len(deqRaw))
			}
			got := make([]byte, rb)
			deq := make([]float32, cols)
			for r := 0; r < rows; r++ {
				if err := QuantizeRow(c.typ, got, src[r*cols:(r+1)*cols]); err != nil {
					t.Fatal(err)
				}
				if w := want[r*rb : (r+1)*rb]; !bytes.Equal(got, w) {
					i := firstDiff(got, w)
					t.Errorf("row %d: encoding differs from ggml's first at byte %d (block %d): got %#x, want %#x",
						r, i, i/c.typ.BlockBytes(), got[i], w[i])
				}
				// Decode ggml's bytes, so a quantizer bug does not hide a decoder one.
				if err := DequantizeRow(c.typ, deq, want[r*rb:(r+1)*rb]); err != nil {
					t.Fatal(err)
				}
				for i, v := range deq {
					w := math.Float32frombits(binary.LittleEndian.Uint32(deqRaw[4*(r*cols+i):]))
					if math.Float32bits(v) != math.Float32bits(w) {
						t.Errorf("row %d element %d: dequantized %g (%#x), ggml %g (%#x)", r, i, v, math.Float32bits(v), w, math.Float32bits(w))
						break
					}
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// TestGoldenRoundTripAllTypes encodes the golden source rows (ramps,
// outliers, a zero row, a tiny row) in every type, the ones without ggml
// bytes in the file included, and bounds the decoding error.
func TestGoldenRoundTripAllTypes(t *testing.T) {
	_, src, rows, cols := goldenVectors(t)
	for _, typ := range quantTypes {
		rb, _ := typ.RowBytes(cols)
		enc := make([]byte, rb)
		deq := make([]float32, cols)
		for r := 0; r < rows; r++ {
			x := src[r*cols : (r+1)*cols]
			if err := QuantizeRow(typ, enc, x); err != nil {
				t.Fatal(err)
			}
			if err := DequantizeRow(typ, deq, enc); err != nil {
				t.Fatal(err)
			}
			if msg := roundTripError(typ, x, deq, 1); msg != "" {
				t.Errorf("%s row %d: %s", typ, r, msg)
			}
		}
	}
}

// quantTypes are the types QuantizeRow encodes.
var quantTypes = []tensor.Type{
	tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q8_1, tensor.Q8_K,
	tensor.Q4_0, tensor.Q4_1, tensor.Q5_0, tensor.Q5_1, tensor.Q2_K, tensor.Q3_K, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K,
}

// relErrBound is the largest round-trip error of each type as a fraction
// of the largest magnitude in the block (32 elements for the plain types):
// for the plain and 32-element formats, half a grid step (a full step
// where ggml clamps the top level: Q4_0, Q5_0); for the k-quants, whose
// fitted scales trade range for resolution, about 1.3x the worst seen on
// Gaussian, uniform, heavy-tailed and one-signed data.
var relErrBound = map[tensor.Type]float64{
	tensor.F32: 0, tensor.F16: 1.0 / 2048, tensor.BF16: 1.0 / 256,
	tensor.Q8_0: 0.5 / 127, tensor.Q8_1: 0.5 / 127, tensor.Q8_K: 0.5 / 127,
	tensor.Q4_0: 1.0 / 8, tensor.Q4_1: 1.0 / 15, tensor.Q5_0: 1.0 / 16, tensor.Q5_1: 1.0 / 31,
	tensor.Q2_K: 1.0 / 2, tensor.Q3_K: 1.0 / 3, tensor.Q4_K: 1.0 / 8, tensor.Q5_K: 1.0 / 14, tensor.Q6_K: 1.0 / 32,
}

// f16ScaleReach is, for the types with f16 scales, the largest factor the
// decoder multiplies a scale by (levels times 6- or 8-bit sub-block scales;
// ±1 for F16 itself).
var f16ScaleReach = map[tensor.Type]float64{
	tensor.F16: 1, tensor.Q8_0: 128, tensor.Q8_1: 128, tensor.Q4_0: 8, tensor.Q4_1: 16, tensor.Q5_0: 16, tensor.Q5_1: 32,
	tensor.Q2_K: 16 * 4, tensor.Q3_K: 32 * 4, tensor.Q4_K: 64 * 16, tensor.Q5_K: 64 * 32, tensor.Q6_K: 128 * 32,
}

// roundTripError checks y, the decoding of x's encoding in typ, block by
// block against relErrBound (times slack), plus what f16 scales add: their
// rounding, and their underflow for tiny blocks (the golden file has a row
// scaled by 1e-6). It returns "" or what failed.
func roundTripError(typ tensor.Type, x, y []float32, slack float64) string {
	bs := max(typ.BlockSize(), 32)
	for b := 0; b+bs <= len(x); b += bs {
		var amax, maxErr float64
		at := 0
		for i := b; i < b+bs; i++ {
			amax = math.Max(amax, math.Abs(float64(x[i])))
			if e := math.Abs(float64(x[i]) - float64(y[i])); e > maxErr {
				maxErr, at = e, i
			}
		}
		bound := relErrBound[typ]*slack*amax + amax*0x1p-20 // and float32 rounding at exact ties
		if reach := f16ScaleReach[typ]; reach > 0 {
			// f16 scales: relative rounding 2^-11 of every decoded value,
			// and, for tiny blocks, underflow to subnormals spaced 2^-24,
			// an error multiplied by the levels and sub-block scales.
			bound += amax/1024 + reach*0x1p-24
		}
		if maxErr > bound {
			return fmt.Sprintf("element %d: %g decoded as %g, error %g over bound %g (block max %g)", at, x[at], y[at], maxErr, bound, amax)
		}
	}
	return ""
}

func ExampleQuantizeRow() {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-16) / 16
	}
	enc := make([]byte, tensor.Q8_0.BlockBytes())
	if err := QuantizeRow(tensor.Q8_0, enc, x); err != nil {
		panic(err)
	}
	y := make([]float32, 32)
	if err := DequantizeRow(tensor.Q8_0, y, enc); err != nil {
		panic(err)
	}
	fmt.Printf("%.4f %.4f %.4f %.4f\n", x[0], y[0], x[31], y[31])
	// Output: -1.0000 -0.9999 0.9375 0.9370
}
