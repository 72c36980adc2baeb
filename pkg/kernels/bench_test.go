package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// benchPaths are the kernel paths the benchmarks compare: every one this
// machine runs, or the one LLMBOOT_KERNELS names.
func benchPaths() []Path {
	if s := os.Getenv(KernelsEnv); s != "" {
		if p, err := ParsePath(s); err == nil && PathSupported(p) {
			return []Path{p}
		}
	}
	return SupportedPaths()
}

// BenchmarkVecDot times one 4096-element dot product per path and type;
// bytes/s counts the weight row read. Paths without a kernel of their own
// for a type run the generic one.
func BenchmarkVecDot(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(1, 2))
	for _, w := range weightTypes {
		wb := encode(b, w, randRow(r, n, 0))
		ab := make([]byte, typeBytes(b, ActivationType(w), n))
		if err := QuantizeActivations(ActivationType(w), ab, randRow(r, n, 0)); err != nil {
			b.Fatal(err)
		}
		for _, p := range benchPaths() {
			b.Run(p.String()+"/"+w.String(), func(b *testing.B) {
				onPath(p, func() {
					b.SetBytes(int64(len(wb)))
					var sink float32
					for b.Loop() {
						sink += VecDot(w, n, wb, ab)
					}
					_ = sink
				})
			})
		}
	}
}

// BenchmarkQuantizeActivations times converting 4096 floats to each
// activation type; bytes/s counts the floats read.
func BenchmarkQuantizeActivations(b *testing.B) {
	const n = 4096
	x := randRow(rand.New(rand.NewPCG(5, 6)), n, 0)
	for _, act := range []tensor.Type{tensor.Q8_0, tensor.Q8_1, tensor.Q8_K, tensor.F16} {
		dst := make([]byte, typeBytes(b, act, n))
		for _, p := range benchPaths() {
			b.Run(p.String()+"/"+act.String(), func(b *testing.B) {
				onPath(p, func() {
					b.SetBytes(4 * n)
					for b.Loop() {
						if err := QuantizeActivations(act, dst, x); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkMatMul times a 2048x2048 matrix times 1 and 8 vectors on
// GOMAXPROCS workers, per path; bytes/s counts the weights read.
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
			x := randRow(r, batch*dim, 0)
			out := make([]float32, batch*dim)
			for _, path := range benchPaths() {
				b.Run(fmt.Sprintf("%s/%s/batch=%d", path, w, batch), func(b *testing.B) {
					onPath(path, func() {
						b.SetBytes(int64(len(m.Data)))
						for b.Loop() {
							if err := p.MatMul(out, m, x, batch); err != nil {
								b.Fatal(err)
							}
						}
					})
				})
			}
		}
	}
}

// BenchmarkVector times the vector pieces of a layer on a TinyLlama-sized
// row (hidden 5632, dim 2048), and WeightedSum on one 64-wide head over
// 1024 positions of a 256-wide V cache; bytes/s counts the floats read.
func BenchmarkVector(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	g, u := randRow(r, 5632, 0), randRow(r, 5632, 0)
	x, w := randRow(r, 2048, 0), randRow(r, 2048, 0)
	att := randRow(r, 1024, 0)
	v := randRow(r, 1024*256, 0)
	dst := make([]float32, 5632)
	for _, p := range benchPaths() {
		onPath(p, func() {
			b.Run(p.String()+"/SwiGLU", func(b *testing.B) {
				b.SetBytes(8 * 5632)
				for b.Loop() {
					SwiGLU(dst, g, u)
				}
			})
			b.Run(p.String()+"/RMSNorm", func(b *testing.B) {
				b.SetBytes(8 * 2048)
				for b.Loop() {
					RMSNorm(dst, x, w, 1e-5)
				}
			})
			b.Run(p.String()+"/Softmax", func(b *testing.B) {
				b.SetBytes(4 * 1024)
				for b.Loop() {
					copy(dst, att)
					Softmax(dst[:1024])
				}
			})
			b.Run(p.String()+"/WeightedSum", func(b *testing.B) {
				b.SetBytes(4 * (1024 + 1024*64))
				for b.Loop() {
					WeightedSum(dst[:64], att, v, 256)
				}
			})
		})
	}
}
