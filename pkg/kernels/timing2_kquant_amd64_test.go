//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestKQuantMatMulTiming (KQ_TIMING=1) times MatMul on one thread, on the
// thread's CPU clock, for batches 1 and 8: the lane-major route with and
// without its many-row and eight-row kernels, and the AVX2 ordinary route.
func TestKQuantMatMulTiming(t *testing.T) {
	if os.Getenv("KQ_TIMING") == "" {
		t.Skip("KQ_TIMING unset")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := rand.New(rand.NewPCG(3, 4))
	p := NewPool(1)
	defer p.Close()
	const dim = 2048
	for _, w := range []tensor.Type{tensor.Q4_K, tensor.Q6_K} {
		tile := randMatrix(t, r, w, 16, dim)
		m := Matrix{Type: w, Rows: dim, Cols: dim}
		for len(m.Data) < dim*m.RowBytes() {
			m.Data = append(m.Data, tile.Data...)
		}
		full := kquantMatmul[w]
		noRows := *full
		noRows.rows = nil
		noWide := *full
		noWide.dot8 = nil
		for _, batch := range []int{1, 8} {
			x := randRow(r, batch*dim, 0)
			out := make([]float32, batch*dim)
			variants := []struct {
				name string
				kq   *kquantKernels
			}{{"lm", full}, {"lm-norows", &noRows}, {"lm-nox8", &noWide}, {"avx2", nil}}
			res := make([][]float64, len(variants))
			for round := 0; round < 30; round++ {
				for i, v := range variants {
					kquantMatmul[w] = v.kq
					t0 := threadNanos()
					for c := 0; c < 4; c++ {
						if err := p.MatMul(out, m, x, batch); err != nil {
							t.Fatal(err)
						}
					}
					res[i] = append(res[i], float64(threadNanos()-t0)/4/1e3)
				}
			}
			kquantMatmul[w] = full
			for i, v := range variants {
				sort.Float64s(res[i])
				fmt.Printf("%s batch %d %-10s min %8.1f us  med %8.1f us  (%.2f GB/s at min)\n", w, batch, v.name, res[i][0], res[i][len(res[i])/2], float64(len(m.Data))/res[i][0]/1e3)
			}
		}
	}
}
