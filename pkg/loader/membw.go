package loader

import (
	"fmt"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/llmboot/llmboot/internal/mmapfile"
	"github.com/llmboot/llmboot/pkg/kernels"
)

// BandwidthBuffer returns n float32s of memory of the kind repacked
// weights live in (mmapfile.Anon: outside the Go heap, in transparent huge
// pages where the kernel has them), so that ReadBandwidth measures what the
// kernels can read: with 4 KiB pages the same reads ran slower here
// (docs/benchmarks.md). free unmaps it.
func BandwidthBuffer(n int) (buf []float32, free func() error, err error) {
	b, free, err := mmapfile.Anon(4 * n)
	if err != nil || n == 0 {
		return nil, free, err
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n), free, nil
}

// ProbeMemory measures the rate at which one core reads RAM (bytes/s),
// two passes over 32 MiB with ReadBandwidth; 0 if the read went wrong.
func ProbeMemory() float64 {
	_, best, err := ReadBandwidth(make([]float32, 32<<20/4), 1, 2)
	if err != nil {
		return 0
	}
	return best * 1e9
}

// ReadBandwidth reads buf on threads goroutines, passes times, with the
// kernels' vector dot product (so the rate is what SIMD loads get, not a
// scalar loop's), and returns the median and best read rate in GB/s. The
// buffer is written first so every page is mapped before timing; each pass
// is checked against the sum of squares written, which also keeps the
// reads from being dropped.
func ReadBandwidth(buf []float32, threads, passes int) (median, best float64, err error) {
	split := func(fn func(part []float32) float64) float64 {
		var wg sync.WaitGroup
		sums := make([]float64, threads)
		for i := 0; i < threads; i++ {
			lo, hi := i*len(buf)/threads, (i+1)*len(buf)/threads
			wg.Add(1)
			go func() {
				defer wg.Done()
				sums[i] = fn(buf[lo:hi])
			}()
		}
		wg.Wait()
		var s float64
		for _, x := range sums {
			s += x
		}
		return s
	}
	want := split(func(part []float32) float64 {
		var s float64
		for i := range part {
			part[i] = float32(i % 8)
			s += float64(i%8) * float64(i%8)
		}
		return s
	})
	rates := make([]float64, passes)
	for p := range rates {
		t0 := time.Now()
		got := split(sumSquares)
		rates[p] = float64(len(buf)*4) / time.Since(t0).Seconds() / 1e9
		if got != want {
			return 0, 0, fmt.Errorf("memory bandwidth: read a sum of squares of %g, wrote %g: memory or scheduler trouble", got, want)
		}
	}
	sort.Float64s(rates)
	return rates[len(rates)/2], rates[len(rates)-1], nil
}

// sumSquares is the sum of b[i]^2 by kernels.Dot in chunks of 256 Ki
// floats: with values 0..7 every partial sum is an integer below 2^24, so
// the result is exact whatever order the kernel adds in.
func sumSquares(b []float32) float64 {
	const chunk = 256 << 10
	var s float64
	for len(b) > 0 {
		c := b[:min(chunk, len(b))]
		s += float64(kernels.Dot(c, c))
		b = b[len(c):]
	}
	return s
}
