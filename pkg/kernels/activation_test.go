package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestRuntimeActivationQuantizers pins the two ways the x86 run-time Q8_0
// and Q8_1 quantizers differ from ggml's reference, on values built to hit
// them, and that they agree with the reference elsewhere.
func TestRuntimeActivationQuantizers(t *testing.T) {
	// amax 127 makes id exactly 1: 2.5 and -3.5 are ties. The reference
	// rounds them away from zero (3, -4), the run-time code to even (2, -4).
	x := make([]float32, 32)
	x[0], x[1], x[2], x[3] = 127, 2.5, -3.5, 0.5
	for _, typ := range []tensor.Type{tensor.Q8_0, tensor.Q8_1} {
		off := 2
		if typ == tensor.Q8_1 {
			off = 4
		}
		ref := make([]byte, typ.BlockBytes())
		run := make([]byte, typ.BlockBytes())
		if err := QuantizeRow(typ, ref, x); err != nil {
			t.Fatal(err)
		}
		if err := QuantizeActivations(typ, run, x); err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct{ ref, run int8 }{{127, 127}, {3, 2}, {-4, -4}, {1, 0}} {
			if int8(ref[off+i]) != want.ref || int8(run[off+i]) != want.run {
				t.Errorf("%s value %d (%g): reference %d run-time %d, want %d %d", typ, i, x[i], int8(ref[off+i]), int8(run[off+i]), want.ref, want.run)
			}
		}
		if typ == tensor.Q8_1 {
			// s = d * sum(q): the run-time sum is 127+2-4+0 = 125.
			if got, want := FP16ToFP32(uint16(run[2])|uint16(run[3])<<8), FP16ToFP32(FP32ToFP16(125)); got != want {
				t.Errorf("Q8_1 s = %g, want %g", got, want)
			}
		}
	}
	// On random data, the two agree but for rare ties and scale ulps: each
	// value within one quantization step.
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(r.NormFloat64())
	}
	ref := make([]byte, 4096/32*34)
	run := make([]byte, len(ref))
	QuantizeRow(tensor.Q8_0, ref, src)
	QuantizeActivations(tensor.Q8_0, run, src)
	diff := 0
	for b := 0; b < 4096/32; b++ {
		for j := 0; j < 32; j++ {
			d := int(int8(ref[b*34+2+j])) - int(int8(run[b*34+2+j]))
			if d < -1 || d > 1 {
				t.Fatalf("block %d value %d: %d vs %d", b, j, int8(ref[b*34+2+j]), int8(run[b*34+2+j]))
			}
			if d != 0 {
				diff++
			}
		}
	}
	t.Logf("run-time and reference Q8_0 differ on %d of 4096 values", diff)
	if err := QuantizeActivations(tensor.Q4_0, ref, src); err == nil {
		t.Error("Q4_0 accepted as an activation type")
	}
}
