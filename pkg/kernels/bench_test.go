package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BenchmarkVecDot times one 4096-element dot product per type; bytes/s
// counts the weight row read.
func BenchmarkVecDot(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range weightTypes {
		b.Run(w.String(), func(b *testing.B) {
			wb := encode(b, w, randRow(r, n, 0))
			ab := encode(b, ActivationType(w), randRow(r, n, 0))
			b.SetBytes(int64(len(wb)))
			var sink float32
			for b.Loop() {
				sink += VecDot(w, n, wb, ab)
			}
			_ = sink
		})
	}
}

// BenchmarkMatMul times a 2048x2048 matrix times 1 and 8 vectors on
// GOMAXPROCS workers; bytes/s counts the weights read.
func BenchmarkMatMul(b *testing.B) {
	const dim = 2048
	r := rand.New(rand.NewPCG(3, 4))
	p := NewPool(runtime.GOMAXPROCS(0))
	defer p.Close()
	for _, w := range weightTypes {
		// 16 distinct encoded rows, tiled: encoding 2048 rows with the
		// k-quant searches would dominate the benchmark's setup.
		tile := randMatrix(b, r, w, 16, dim)
		m := Matrix{Type: w, Rows: dim, Cols: dim}
		for len(m.Data) < dim*m.RowBytes() {
			m.Data = append(m.Data, tile.Data...)
		}
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/batch=%d", w, batch), func(b *testing.B) {
				x := randRow(r, batch*dim, 0)
				out := make([]float32, batch*dim)
				b.SetBytes(int64(len(m.Data)))
				for b.Loop() {
					if err := p.MatMul(out, m, x, batch); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
