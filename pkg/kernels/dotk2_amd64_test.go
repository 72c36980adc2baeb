//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestQ2_Kx4MatchesOneRow holds dotQ2_Kx4AVX2 to dotQ2_KAVX2 bit for bit
// (NaNs included, their payloads too) for each of its four activation
// rows: quantized and raw weight rows (random and the edge byte
// patterns), rows whose f16 d or dmin is infinite, NaN or subnormal,
// activation rows of different fills side by side, and strides with and
// without padding between the rows.
func TestQ2_Kx4MatchesOneRow(t *testing.T) {
	if !PathSupported(PathAVX2) {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(21, 22))
	const bs = q2_KBytes
	// special sets d and dmin of every block to f16 specials.
	special := func(wb []byte, d, dmin uint16) []byte {
		for k := 0; k+bs <= len(wb); k += bs {
			binary.LittleEndian.PutUint16(wb[k+80:], d)
			binary.LittleEndian.PutUint16(wb[k+82:], dmin)
		}
		return wb
	}
	type wcase struct {
		name string
		row  func(nb int) []byte
	}
	wcases := []wcase{}
	for kind := 0; kind < 6; kind++ {
		wcases = append(wcases, wcase{fmt.Sprintf("quantized%d", kind), func(nb int) []byte {
			return encode(t, tensor.Q2_K, randRow(r, nb*qkK, kind))
		}})
	}
	for _, fill := range []string{"random", "zero", "max", "min", "127"} {
		wcases = append(wcases, wcase{"raw " + fill, func(nb int) []byte { return rawBlocks(r, tensor.Q2_K, nb, fill) }})
	}
	for _, sp := range []struct {
		name    string
		d, dmin uint16
	}{{"inf d", 0x7c00, 0x3c00}, {"-inf dmin", 0x3c00, 0xfc00}, {"nan d", 0x7e01, 0x3c00}, {"nan both", 0x7e01, 0xfe02}, {"subnormal", 0x0001, 0x8003}, {"max f16", 0x7bff, 0x7bff}} {
		wcases = append(wcases, wcase{sp.name, func(nb int) []byte { return special(rawBlocks(r, tensor.Q2_K, nb, "random"), sp.d, sp.dmin) }})
	}
	afills := [][4]string{
		{"random", "random", "random", "random"},
		{"random", "127", "max", "zero"},
		{"zero", "max", "127", "random"},
		{"max", "max", "max", "max"},
	}
	for _, nb := range []int{1, 2, 3, 5, 16} {
		n := nb * qkK
		ab := nb * q8_KBytes
		for _, wc := range wcases {
			for _, af := range afills {
				for _, pad := range []int{0, q8_KBytes, 7} {
					wb := wc.row(nb)
					astride := ab + pad
					acts := make([]byte, 3*astride+ab)
					for i, fill := range af {
						copy(acts[i*astride:], activationRaw(r, tensor.Q8_K, nb, fill))
					}
					var got [4]float32
					dotQ2_Kx4AVX2(n, wb, acts, astride, &got)
					for i := range got {
						a := acts[i*astride : i*astride+ab]
						want := dotQ2_KAVX2(n, wb, a)
						if math.Float32bits(got[i]) != math.Float32bits(want) {
							t.Errorf("n=%d %s acts %v stride %d: row %d %g (%#08x), one-row %g (%#08x)",
								n, wc.name, af, astride, i, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
						}
						if g := dotQ2_K(n, wb, a); !sameFloat(want, g) {
							t.Errorf("n=%d %s acts %v: row %d one-row %g, generic %g", n, wc.name, af, i, want, g)
						}
					}
				}
			}
		}
	}
}

// BenchmarkQ2_Kx4 times the one-row Q2_K kernel against one activation
// row and the four-token kernel against four, on a 4096-element row in
// L1. ns/sb is per weight super-block read (one token for "1row", four
// for "x4"); ns/sb-tok divides that by the tokens, the cost MatMul pays
// per weight super-block and token.
func BenchmarkQ2_Kx4(b *testing.B) {
	if !PathSupported(PathAVX2) {
		b.Skip("no AVX2")
	}
	const n = 4096
	r := rand.New(rand.NewPCG(3, 4))
	wb := encode(b, tensor.Q2_K, randRow(r, n, 0))
	ab := typeBytes(b, tensor.Q8_K, n)
	acts := make([]byte, 4*ab)
	for i := 0; i < 4; i++ {
		if err := QuantizeActivations(tensor.Q8_K, acts[i*ab:(i+1)*ab], randRow(r, n, 0)); err != nil {
			b.Fatal(err)
		}
	}
	report := func(b *testing.B, toks int) {
		sb := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / (n / qkK)
		b.ReportMetric(sb, "ns/sb")
		b.ReportMetric(sb/float64(toks), "ns/sb-tok")
	}
	b.Run("1row", func(b *testing.B) {
		var sink float32
		for b.Loop() {
			sink += dotQ2_KAVX2(n, wb, acts[:ab])
		}
		_ = sink
		report(b, 1)
	})
	b.Run("x4", func(b *testing.B) {
		var out [4]float32
		for b.Loop() {
			dotQ2_Kx4AVX2(n, wb, acts, ab, &out)
		}
		report(b, 4)
	})
}
