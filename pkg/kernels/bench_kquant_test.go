package kernels

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// kquantBenchRows is a weight matrix for the k-quant microbenchmarks: rows
// copies of a few encoded 2048-element rows.
func kquantBenchRows(b testing.TB, w tensor.Type, rows int) ([]byte, int, []byte) {
	n := kquantBenchN
	r := rand.New(rand.NewPCG(21, 22))
	tile := randMatrix(b, r, w, 4, n)
	rb := len(tile.Data) / 4
	data := make([]byte, 0, rows*rb)
	for len(data) < rows*rb {
		data = append(data, tile.Data...)
	}
	ab := make([]byte, typeBytes(b, ActivationType(w), n))
	if err := QuantizeActivations(ActivationType(w), ab, randRow(r, n, 0)); err != nil {
		b.Fatal(err)
	}
	return data[:rows*rb], rb, ab
}

// BenchmarkKQuantDot times the AVX2 k-quant dot kernels (the ordinary
// ones and the lane-major ones) on KQ_N-element rows (default 2048): "L1"
// repeats one row; with KQ_DRAM set, "DRAM" walks a 256 MiB matrix row by
// row. ns/sb is per 256-element superblock.
var kquantBenchN = func() int {
	if s := os.Getenv("KQ_N"); s != "" {
		n, _ := strconv.Atoi(s)
		return n
	}
	return 2048
}()

func BenchmarkKQuantDot(b *testing.B) {
	if !PathSupported(PathAVX2) {
		b.Skip("no AVX2")
	}
	n := kquantBenchN
	for _, w := range laneMajorTypes {
		for _, kc := range kquantBenchKernels(w) {
			for _, where := range []string{"L1", "DRAM"} {
				if where == "DRAM" && os.Getenv("KQ_DRAM") == "" {
					continue
				}
				rows := 1
				if where == "DRAM" {
					rb, _ := w.RowBytes(n)
					rows = (256 << 20) / rb
				}
				data, rb, ab := kquantBenchRows(b, w, rows)
				if kc.laneMajor {
					ab = toLaneMajor(ab)
				}
				if kc.packed {
					data = laneMajorRow(b, w, data) // rows*rb bytes, whole blocks
				}
				b.Run(w.String()+"/"+kc.name+"/"+where, func(b *testing.B) {
					b.SetBytes(int64(rb))
					var sink float32
					r := 0
					for b.Loop() {
						sink += kc.dot(n, data[r*rb:(r+1)*rb], ab)
						if r++; r == rows {
							r = 0
						}
					}
					_ = sink
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n/qkK), "ns/sb")
				})
			}
		}
	}
}

// toLaneMajor returns the Q8_K row ab in the lane-major layout, aligned.
func toLaneMajor(ab []byte) []byte {
	lm := alignedBytes(len(ab) / q8_KBytes * lmBlockBytes)
	laneMajorQ8K(lm, ab)
	return lm
}
