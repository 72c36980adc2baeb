//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// BenchmarkTileKernels times the quantized tile kernel and the BF16 one
// against the four-row (dot4) and single-row kernels they replace, on one
// thread with L1/L2-resident operands (64 blocks per row, 2048 elements);
// ns/rbt is nanoseconds per row-block-token (BF16: per row-32
// elements-token). F16's prompt kernels are timed in MatMul
// (BenchmarkMatMulPrompt).
func BenchmarkTileKernels(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	const nb, n, T = 64, 64 * qk32, 20 // tokens: a multiple of 4
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct {
		typ  tensor.Type
		dot4 dot4Kernel
	}{{tensor.Q8_0, dotQ8_0x4AVX2}, {tensor.Q4_0, dotQ4_0x4AVX2}} {
		o := makeTileOperands(b, r, c.typ, 4, nb, T, false)
		out := make([]float32, 4*T)
		b.Run(fmt.Sprintf("%s/dot4x1", c.typ), func(b *testing.B) {
			var r4 [4]float32
			for b.Loop() {
				for t := 0; t < T; t++ {
					c.dot4(n, o.w, o.m.RowBytes(), c.typ.BlockBytes(), o.a[t*o.aStride:], &r4)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(4*nb*T), "ns/rbt")
		})
		b.Run(fmt.Sprintf("%s/tile2x4", c.typ), func(b *testing.B) {
			buf := make([]byte, 2*nb*qk32)
			for b.Loop() {
				at := o.m.blockAddr(0)
				wq, qRow, qBlock := &o.w[at.levels], at.levelsRow, at.block
				if c.typ == tensor.Q4_0 { // expanded once per 2 rows x T tokens
					expandQ4_0AVX2(nb, &buf[0], &o.w[at.levels], at.block)
					expandQ4_0AVX2(nb, &buf[nb*qk32], &o.w[at.levels+at.levelsRow], at.block)
					wq, qRow, qBlock = &buf[0], nb*qk32, qk32
				}
				for t := 0; t < T; t += 4 {
					tileQSplit2x4AVX2(nb, wq, qRow, qBlock, &o.w[at.scale], at.scaleRow, at.block, &o.a[t*o.aStride], o.aStride, &o.sc[t], 4*T, &out[t*4], 16)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*nb*T), "ns/rbt")
		})
	}
	// BF16: six rows by six tokens, as the rows kernel and as 3x2 tiles.
	const bR, bT = 6, 6
	bw := make([]byte, 0, bR*2*n)
	for i := 0; i < bR; i++ {
		bw = append(bw, encode(b, tensor.BF16, randRow(r, n, i))...)
	}
	ba := make([]byte, 0, bT*2*n)
	for i := 0; i < bT; i++ {
		ba = append(ba, encode(b, tensor.BF16, randRow(r, n, i))...)
	}
	b.Run("BF16/dot", func(b *testing.B) {
		var sink float32
		for b.Loop() {
			for t := 0; t < bT; t++ {
				for i := 0; i < bR; i++ {
					sink += dotBF16AVX2(n, bw[i*2*n:], ba[t*2*n:])
				}
			}
		}
		_ = sink
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bR*bT*nb), "ns/rbt")
	})
	b.Run("BF16/tile3x2", func(b *testing.B) {
		out := make([]float32, bR*bT)
		for b.Loop() {
			for i := 0; i < bR; i += 3 {
				for t := 0; t < bT; t += 2 {
					tileBF16x3x2AVX2(n, &bw[i*2*n], 2*n, &ba[t*2*n], 2*n, &out[t*bR+i], 4*bR)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(bR*bT*nb), "ns/rbt")
	})
}

// BenchmarkMatMulPrompt times MatMul on a prompt-sized batch (128 tokens)
// on one thread, TinyLlama's two matrix shapes (2048 columns, and the
// 5632-column down projection): with the blockwise kernels where a type
// has one ("blockwise", a pool set blockwise), with the tiles that keep the
// row kernels' bits ("tile", the default), and without either ("rows":
// the row kernels per token); ns/rbt is nanoseconds per row, 32 elements
// and token.
func BenchmarkMatMulPrompt(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	const batch = 128
	r := rand.New(rand.NewPCG(23, 24))
	p := NewPool(1)
	defer p.Close()
	for _, w := range []tensor.Type{tensor.Q8_0, tensor.Q4_0, tensor.F16, tensor.BF16} {
		for _, shape := range [][2]int{{2048, 2048}, {512, 5632}} {
			rows, cols := shape[0], shape[1]
			tile := randMatrix(b, r, w, 16, cols)
			m := Matrix{Type: w, Rows: rows, Cols: cols}
			for len(m.Data) < rows*m.RowBytes() {
				m.Data = append(m.Data, tile.Data...)
			}
			x := randRow(r, batch*cols, 0)
			out := make([]float32, batch*rows)
			for _, mode := range []string{"rows", "tile", "blockwise"} {
				if mode == "blockwise" && blockwiseKernels[w] == nil {
					continue
				}
				b.Run(fmt.Sprintf("%s/%dx%d/%s", w, rows, cols, mode), func(b *testing.B) {
					onPath(PathAVX2, func() {
						if mode == "rows" {
							batchKernels = [len(typeKernels)]*batchKernel{}
							blockwiseKernels = [len(typeKernels)]*batchKernel{}
						}
						p.SetBlockwise(mode == "blockwise")
						for b.Loop() {
							if err := p.MatMul(out, m, x, batch); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*cols/32*batch), "ns/rbt")
					})
				})
			}
		}
	}
}
