package kernels

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/llmboot/llmboot/internal/mmapfile"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// BenchmarkMatMulStream asks whether generation is bound by memory
// bandwidth: one token (batch 1) through a 256 MiB matrix of each type on
// GOMAXPROCS threads, against a plain read of a buffer of the same size
// (Dot of it with itself, what llmboot bench --membw times). The matrices
// are held as the loader holds repacked weights (mmapfile.Anon: huge pages
// where the kernel gives them; PreferredLayout: Q8_0 and Q4_0 in quads,
// the k-quants lane-major); F16 too, which the engine reads from the
// file's mapping instead. The types and the read take turns within each
// of the rounds, so the machine's drifting bandwidth moves them together;
// each metric is a median over the rounds in GB/s of weights (read: of
// the buffer). Run with -benchtime 1x: when every type streams at about
// the read's rate, generation can only be as fast as the machine's
// bandwidth allows, whatever the kernels do.
func BenchmarkMatMulStream(b *testing.B) {
	const size, cols, rounds = 256 << 20, 2048, 9
	r := rand.New(rand.NewPCG(29, 30))
	types := []tensor.Type{tensor.F16, tensor.Q8_0, tensor.Q4_0, tensor.Q4_K, tensor.Q6_K}
	var ms []Matrix
	for _, w := range types {
		tile := randMatrix(b, r, w, 16, cols)
		m := Matrix{Type: w, Rows: size / tile.RowBytes() &^ 15, Cols: cols}
		data, free, err := mmapfile.Anon(m.Rows * m.RowBytes())
		if err != nil {
			b.Fatal(err)
		}
		defer free()
		for off := 0; off < len(data); off += copy(data[off:], tile.Data) {
		}
		m.Data = data
		if PreferredLayout(m) != LayoutRows { // in place, as the loader's repacking
			if m, err = Repack(data, m); err != nil {
				b.Fatal(err)
			}
		}
		ms = append(ms, m)
	}
	raw, free, err := mmapfile.Anon(size)
	if err != nil {
		b.Fatal(err)
	}
	defer free()
	buf := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(raw))), len(raw)/4)
	for i := range buf {
		buf[i] = float32(i % 8)
	}
	threads := runtime.GOMAXPROCS(0)
	p := NewPool(threads)
	defer p.Close()
	x := randRow(r, cols, 0)
	out := make([]float32, slices.MaxFunc(ms, func(a, b Matrix) int { return a.Rows - b.Rows }).Rows)
	read := func() {
		p.Parallel(threads, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				part := buf[t*len(buf)/threads : (t+1)*len(buf)/threads]
				for len(part) > 0 { // chunks, as the --membw probe
					n := min(len(part), 256<<10)
					Dot(part[:n], part[:n])
					part = part[n:]
				}
			}
		})
	}
	rates := make([][]float64, len(types)+1)
	for b.Loop() {
		for range rounds {
			for i := range rates {
				st := time.Now()
				bytes := len(raw)
				if i < len(types) {
					if err := p.MatMul(out, ms[i], x, 1); err != nil {
						b.Fatal(err)
					}
					bytes = len(ms[i].Data)
				} else {
					read()
				}
				rates[i] = append(rates[i], float64(bytes)/time.Since(st).Seconds()/1e9)
			}
		}
	}
	for i := range rates {
		slices.Sort(rates[i])
		name := "read"
		if i < len(types) {
			name = types[i].String()
		}
		b.ReportMetric(rates[i][len(rates[i])/2], name+"_GB/s")
	}
}
