package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// kquantTestRows yields weight and activation rows of type w for the
// lane-major tests: quantized rows of several data shapes and raw blocks
// with edge bytes, over nb blocks.
func kquantTestRows(t testing.TB, r *rand.Rand, w tensor.Type, nb int, fn func(what string, wb, ab []byte)) {
	n := nb * qkK
	for kind := 0; kind < 6; kind++ {
		fn(fmt.Sprintf("quantized kind %d", kind), encode(t, w, randRow(r, n, kind)), encode(t, tensor.Q8_K, randRow(r, n, kind+1)))
	}
	for _, wf := range []string{"random", "zero", "max", "min", "127"} {
		for _, af := range []string{"random", "127", "max", "zero"} {
			fn("raw "+wf+"/"+af, rawBlocks(r, w, nb, wf), activationRaw(r, tensor.Q8_K, nb, af))
		}
	}
}

// laneMajorTypes are the weight types with lane-major kernels and a
// LayoutLaneMajor (the tests' own list, so a type dropped from the code
// fails them rather than leaving them).
var laneMajorTypes = []tensor.Type{tensor.Q3_K, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K}

// TestLaneMajorQ8K checks that the lane-major layout round-trips to a Q8_K
// row every k-quant dot reads as the original.
func TestLaneMajorQ8K(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, w := range []tensor.Type{tensor.Q2_K, tensor.Q3_K, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K} {
		for _, nb := range []int{1, 3, 8} {
			kquantTestRows(t, r, w, nb, func(what string, wb, ab []byte) {
				lm := make([]byte, nb*lmBlockBytes)
				laneMajorQ8K(lm, ab)
				back := make([]byte, len(ab))
				fromLaneMajorQ8K(back, lm)
				for b := 0; b < nb; b++ {
					x, y := ab[b*q8_KBytes:], back[b*q8_KBytes:]
					if string(x[:260]) != string(y[:260]) {
						t.Fatalf("%s nb=%d %s: block %d values differ after the round trip", w, nb, what, b)
					}
				}
				if w == tensor.Q2_K {
					return // values only (its bsums use differs; Q3_K reads none)
				}
				n := nb * qkK
				want := genericKernels[w].dot(n, wb, ab)
				if got := dotKLaneMajorGeneric(w, n, wb, lm); !sameFloat(got, want) {
					t.Errorf("%s nb=%d %s: lane-major twin %g, generic %g", w, nb, what, got, want)
				}
			})
		}
	}
}

// TestKQuantLaneMajorKernels holds every lane-major kernel of every SIMD
// path to the generic dot product on the Q8_K row, bit for bit: one row,
// many weight rows, and four and eight rows (astride apart, with gaps) against one weight
// row, over odd block counts.
func TestKQuantLaneMajorKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, p := range simdPaths(t) {
		for _, w := range laneMajorTypes {
			var kq *kquantKernels
			onPath(p, func() { kq = kquantMatmul[w] })
			if kq == nil {
				t.Logf("%s %s: no lane-major kernels", p, w)
				continue
			}
			for _, packed := range []bool{false, true} {
				kq, p, wrow := kq, p.String(), func(wb []byte) []byte { return wb }
				if packed {
					// The LayoutLaneMajor twins, on repacked rows.
					if kq = kq.packed; kq == nil {
						t.Logf("%s %s: no kernels for LayoutLaneMajor", p, w)
						continue
					}
					p += " packed"
					wrow = func(wb []byte) []byte { return laneMajorRow(t, w, wb) }
				}
				for _, nb := range []int{1, 2, 3, 5, 8, 22} {
					n := nb * qkK
					type row struct {
						what   string
						wb, ab []byte
						want   float32
					}
					var rows []row
					kquantTestRows(t, r, w, nb, func(what string, wb, ab []byte) {
						rows = append(rows, row{what, wb, ab, genericKernels[w].dot(n, wb, ab)})
					})
					for _, rw := range rows {
						lm := alignedBytes(nb * lmBlockBytes)
						laneMajorQ8K(lm, rw.ab)
						if got := kq.dot(n, wrow(rw.wb), lm); !sameFloat(got, rw.want) {
							t.Errorf("%s %s nb=%d %s: %g (%#08x), generic %g (%#08x)", p, w, nb, rw.what, got, math.Float32bits(got), rw.want, math.Float32bits(rw.want))
						}
					}
					if kq.rows != nil {
						// All weight rows of the list, a gap between rows,
						// against each activation row.
						wstride := len(rows[0].wb) + 16
						ws := make([]byte, len(rows)*wstride)
						for i, rw := range rows {
							copy(ws[i*wstride:], wrow(rw.wb))
						}
						for _, ar := range rows[:3] {
							lm := alignedBytes(nb * lmBlockBytes)
							laneMajorQ8K(lm, ar.ab)
							got := make([]float32, len(rows))
							kq.rows(n, ws, wstride, lm, got)
							for i, rw := range rows {
								if want := genericKernels[w].dot(n, rw.wb, ar.ab); !sameFloat(got[i], want) {
									t.Errorf("%s %s rows nb=%d weights %s, activations %s: %g, generic %g", p, w, nb, rw.what, ar.what, got[i], want)
								}
							}
						}
					}
					if kq.dot4 == nil {
						continue
					}
					// Four activation rows of the list against each weight row.
					astride := nb*lmBlockBytes + 64*(nb%3) // rows need not be packed
					for i, rw := range rows {
						acts := alignedBytes(3*astride + nb*lmBlockBytes)
						var want [4]float32
						for k := 0; k < 4; k++ {
							src := rows[(i+5*k)%len(rows)].ab
							laneMajorQ8K(acts[k*astride:], src)
							want[k] = genericKernels[w].dot(n, rw.wb, src)
						}
						var got [4]float32
						kq.dot4(n, wrow(rw.wb), acts, astride, &got)
						for k := range got {
							if !sameFloat(got[k], want[k]) {
								t.Errorf("%s %s four-row nb=%d weights %s, row %d: %g, generic %g", p, w, nb, rw.what, k, got[k], want[k])
							}
						}
					}
					if kq.dot8 == nil {
						continue
					}
					for i, rw := range rows {
						acts := alignedBytes(7*astride + nb*lmBlockBytes)
						var want [8]float32
						for k := 0; k < 8; k++ {
							src := rows[(i+3*k)%len(rows)].ab
							laneMajorQ8K(acts[k*astride:], src)
							want[k] = genericKernels[w].dot(n, rw.wb, src)
						}
						g := make([]byte, nb*lmGroupBlockBytes)
						for k := 0; k < 8; k++ {
							lmGroupFill(g, acts[k*astride:], nb, k)
						}
						var got [8]float32
						kq.dot8(n, wrow(rw.wb), acts, astride, g, &got)
						for k := range got {
							if !sameFloat(got[k], want[k]) {
								t.Errorf("%s %s eight-row nb=%d weights %s, row %d: %g, generic %g", p, w, nb, rw.what, k, got[k], want[k])
							}
						}
					}
				}
			}
		}
	}
}

// laneMajorRow is the weight row wb (type w) in LayoutLaneMajor.
func laneMajorRow(t testing.TB, w tensor.Type, wb []byte) []byte {
	m, err := RepackLaneMajor(make([]byte, len(wb)), Matrix{Type: w, Rows: 1, Cols: len(wb) / w.BlockBytes() * qkK, Data: wb})
	if err != nil {
		t.Fatal(err)
	}
	return m.Data
}

// TestMatMulLaneMajor runs MatMul on Q3_K, Q4_K, Q5_K and Q6_K matrices
// through the lane-major route on every path, for batches that use the
// eight-row, four-row and one-row kernels and their mixes, row counts that
// cut the row tiles and the workers' chunks unevenly, and 1 to 3 threads,
// and compares every output with the generic dot product on the Q8_K row; the
// same for the matrix repacked in LayoutLaneMajor where the type has that
// layout (its own kernels where the path has them, ggml's rows put back
// otherwise).
func TestMatMulLaneMajor(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, typ := range laneMajorTypes {
		for _, shape := range [][2]int{{37, 512}, {70, 768}, {5, 256}} {
			rows, cols := shape[0], shape[1]
			m := randMatrix(t, r, typ, rows, cols)
			mats := []Matrix{m}
			if canLaneMajor(m) {
				mp, err := RepackLaneMajor(make([]byte, len(m.Data)), m)
				if err != nil {
					t.Fatal(err)
				}
				mats = append(mats, mp)
			}
			const maxBatch = 21
			x := make([]float32, 0, maxBatch*cols)
			for b := 0; b < maxBatch; b++ {
				x = append(x, randRow(r, cols, b)...)
			}
			want := make([]float32, maxBatch*rows)
			act := make([]byte, typeBytes(t, tensor.Q8_K, cols))
			for b := 0; b < maxBatch; b++ {
				if err := QuantizeActivations(tensor.Q8_K, act, x[b*cols:(b+1)*cols]); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < rows; i++ {
					want[b*rows+i] = genericKernels[typ].dot(cols, m.Row(i), act)
				}
			}
			for _, path := range testedPaths() {
				onPath(path, func() {
					for _, p := range pools {
						for _, mm := range mats {
							for _, batch := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 21} {
								out := make([]float32, batch*rows)
								if err := p.MatMul(out, mm, x[:batch*cols], batch); err != nil {
									t.Fatal(err)
								}
								for i, v := range out {
									if !sameFloat(v, want[i]) {
										t.Fatalf("%s %s %s %dx%d threads %d batch %d: out[%d] = %g, generic %g", path, typ, mm.Layout, rows, cols, p.Threads(), batch, i, v, want[i])
									}
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestQuantizeLaneMajor compares every path's direct lane-major quantizer
// with quantizeQ8_K followed by laneMajorQ8K, byte for byte: rows of every
// data shape, and blocks of zeros, ties, NaNs, infinities, denormals, and
// equal magnitudes of both signs (absMax keeps the first).
func TestQuantizeLaneMajor(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	var rows [][]float32
	for kind := 0; kind < 12; kind++ {
		rows = append(rows, randRow(r, qkK*(1+kind%3), kind))
	}
	edge := func(f func(i int) float32) []float32 {
		x := make([]float32, qkK)
		for i := range x {
			x[i] = f(i)
		}
		return x
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	rows = append(rows,
		edge(func(int) float32 { return 0 }),
		edge(func(i int) float32 { return float32(math.Copysign(0, -1)) }),
		edge(func(i int) float32 { return float32(i%7) - 3 }),           // small integers
		edge(func(i int) float32 { return float32(i-128) + 0.5 }),       // halves
		edge(func(i int) float32 { return []float32{3, -3}[i%2] }),      // equal magnitudes, + first
		edge(func(i int) float32 { return []float32{-3, 3}[i%2] }),      // - first
		edge(func(i int) float32 { return []float32{1, nan, -2}[i%3] }), // NaNs
		edge(func(i int) float32 { return []float32{nan, 0}[i%2] }),     // NaNs and zeros
		edge(func(i int) float32 { // the max early, NaNs at the end of every lane
			switch {
			case i == 3:
				return -5
			case i >= qkK-8:
				return nan
			}
			return float32(i%5) - 2
		}),
		edge(func(i int) float32 { return []float32{1, inf, -inf, 2}[i%4] }), // infinities
		edge(func(i int) float32 { return float32(i) * 1e-45 }),              // denormals
		edge(func(i int) float32 { return float32(r.NormFloat64()) * 1e30 }),
		edge(func(i int) float32 { return float32(r.NormFloat64()) * 1e-30 }),
	)
	for _, p := range simdPaths(t) {
		var q func([]byte, []float32)
		onPath(p, func() {
			if kq := kquantMatmul[tensor.Q4_K]; kq != nil {
				q = kq.quantize
			}
		})
		if q == nil {
			continue
		}
		for i, x := range rows {
			nb := len(x) / qkK
			ref := make([]byte, nb*q8_KBytes)
			quantizeQ8_K(ref, x)
			want := make([]byte, nb*lmBlockBytes)
			laneMajorQ8K(want, ref)
			got := make([]byte, nb*lmBlockBytes)
			for j := range got {
				got[j] = 0xa5 // every byte must be written
			}
			q(got, x)
			if j := firstDiff(got, want); j < len(want) {
				t.Errorf("%s row %d: byte %d (block %d offset %d) = %#02x, want %#02x", p, i, j, j/lmBlockBytes, j%lmBlockBytes, got[j], want[j])
			}
		}
	}
}
