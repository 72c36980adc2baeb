//go:build amd64 && !purego

package kernels

import (
	"os"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

type kquantBenchKernel struct {
	name      string
	dot       func(n int, w, a []byte) float32
	laneMajor bool
	packed    bool // weights in LayoutLaneMajor
}

func kquantBenchKernels(w tensor.Type) []kquantBenchKernel {
	switch w {
	case tensor.Q3_K:
		return []kquantBenchKernel{{"avx2", dotQ3_KAVX2, false, false}, {"lm", dotQ3_KLMAVX2, true, false}, {"lmp", dotQ3_KLMPAVX2, true, true}}
	case tensor.Q4_K:
		return []kquantBenchKernel{{"avx2", dotQ4_KAVX2, false, false}, {"lm", dotQ4_KLMAVX2, true, false}, {"lmp", dotQ4_KLMPAVX2, true, true}}
	case tensor.Q5_K:
		return []kquantBenchKernel{{"avx2", dotQ5_KAVX2, false, false}, {"lm", dotQ5_KLMAVX2, true, false}, {"lmp", dotQ5_KLMPAVX2, true, true}}
	case tensor.Q6_K:
		return []kquantBenchKernel{{"avx2", dotQ6_KAVX2, false, false}, {"lm", dotQ6_KLMAVX2, true, false}, {"lmp", dotQ6_KLMPAVX2, true, true}}
	}
	return nil
}

// kquantBenchRowTile is how many weight rows the "rows" benchmark hands
// the many-row kernel per call (copies of kquantBenchRows' four rows, in
// L1 for KQ_N = 2048).
const kquantBenchRowTile = 8

// BenchmarkKQuantLaneMajorBatch times the AVX2 path's lane-major many-row
// kernel (one activation row against kquantBenchRowTile weight rows, ns/op
// per call) and its four- and eight-activation-row kernels (ns/op per
// weight row, all activation rows), on ggml's rows ("lm") and, where the
// type has them, the LayoutLaneMajor twins ("lmp"), on KQ_N-element weight
// rows in L1. ns/sb is per weight superblock: per call divided by the
// weight superblocks it reads.
func BenchmarkKQuantLaneMajorBatch(b *testing.B) {
	if !PathSupported(PathAVX2) {
		b.Skip("no AVX2")
	}
	n := kquantBenchN
	nb := n / qkK
	for _, w := range laneMajorTypes {
		var kq *kquantKernels
		onPath(PathAVX2, func() { kq = kquantMatmul[w] })
		data, rb, ab := kquantBenchRows(b, w, kquantBenchRowTile)
		lm := toLaneMajor(ab)
		acts := alignedBytes(8 * len(lm))
		g := make([]byte, nb*lmGroupBlockBytes)
		for k := 0; k < 8; k++ {
			copy(acts[k*len(lm):], lm)
			lmGroupFill(g, lm, nb, k)
		}
		perSB := func(b *testing.B, blocks int) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(blocks), "ns/sb")
		}
		for _, l := range kquantLayouts(b, w, kq, data) {
			k, ws, name := l.k, l.ws, l.name
			if k.rows != nil {
				b.Run(w.String()+"/rows/"+name, func(b *testing.B) {
					out := make([]float32, kquantBenchRowTile)
					for b.Loop() {
						k.rows(n, ws, rb, lm, out)
					}
					perSB(b, kquantBenchRowTile*nb)
				})
			}
			if k.dot4 != nil {
				b.Run(w.String()+"/x4/"+name, func(b *testing.B) {
					var out [4]float32
					for b.Loop() {
						k.dot4(n, ws[:rb], acts, len(lm), &out)
					}
					perSB(b, nb)
				})
			}
			if k.dot8 != nil {
				b.Run(w.String()+"/x8/"+name, func(b *testing.B) {
					var out [8]float32
					for b.Loop() {
						k.dot8(n, ws[:rb], acts, len(lm), g, &out)
					}
					perSB(b, nb)
				})
			}
		}
	}
}

// BenchmarkKQuantRows times the many-row kernels as token generation calls
// them: one lane-major activation row against lmRowTile weight rows a
// call, walking "cache" (64 rows of KQ_N elements, in L2) or, with KQ_DRAM
// set, "DRAM" (65536 rows, more than any cache holds) in order, on ggml's
// rows ("lm") and the LayoutLaneMajor twins ("lmp"). ns/sb is per weight
// superblock.
func BenchmarkKQuantRows(b *testing.B) {
	if !PathSupported(PathAVX2) {
		b.Skip("no AVX2")
	}
	n := kquantBenchN
	for _, w := range laneMajorTypes {
		var kq *kquantKernels
		onPath(PathAVX2, func() { kq = kquantMatmul[w] })
		for _, where := range []string{"cache", "DRAM"} {
			rows := 64
			if where == "DRAM" {
				if os.Getenv("KQ_DRAM") == "" {
					continue
				}
				rows = 65536
			}
			data, rb, ab := kquantBenchRows(b, w, rows)
			lm := toLaneMajor(ab)
			out := make([]float32, rows)
			for _, l := range kquantLayouts(b, w, kq, data) {
				k, ws, name := l.k, l.ws, l.name
				b.Run(w.String()+"/"+name+"/"+where, func(b *testing.B) {
					b.SetBytes(int64(rows * rb))
					for b.Loop() {
						for r := 0; r < rows; r += lmRowTile {
							k.rows(n, ws[r*rb:(r+lmRowTile)*rb], rb, lm, out[r:r+lmRowTile])
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*(n/qkK)), "ns/sb")
				})
			}
		}
	}
}

// kquantLayout is one layout the k-quant benchmarks time: ggml's rows
// ("lm") or the LayoutLaneMajor twins ("lmp"), with its kernels and rows.
type kquantLayout struct {
	name string
	k    *kquantKernels
	ws   []byte
}

// kquantLayouts returns the layouts to time for w's rows data: "lm", and
// "lmp" where the type has lane-major kernels.
func kquantLayouts(b *testing.B, w tensor.Type, kq *kquantKernels, data []byte) []kquantLayout {
	ls := []kquantLayout{{"lm", kq, data}}
	if kq.packed != nil {
		ls = append(ls, kquantLayout{"lmp", kq.packed, laneMajorRow(b, w, data)})
	}
	return ls
}
