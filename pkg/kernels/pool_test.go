package kernels

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolHandOff drives the spin-then-park hand-off through its cases:
// back-to-back jobs (workers spinning), jobs after a pause longer than
// spinFor (workers parked), jobs whose chunks outlast spinFor (the caller
// parks), jobs smaller than the pool, Parallel from several goroutines at
// once and from inside a chunk (both run serially rather than deadlock),
// and a panic followed by more work.
func TestPoolHandOff(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	cover := func(what string, n int, work func()) {
		t.Helper()
		var hits = make([]atomic.Int32, n)
		p.Parallel(n, func(lo, hi int) {
			if work != nil {
				work()
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if c := hits[i].Load(); c != 1 {
				t.Fatalf("%s: index %d of %d covered %d times", what, i, n, c)
			}
		}
	}
	for i := 0; i < 2000; i++ {
		cover("back to back", 1+i%5, nil)
	}
	for i := 0; i < 3; i++ {
		time.Sleep(2 * spinFor)
		cover("after a pause", 7, nil)
	}
	cover("slow chunks", 3, func() { time.Sleep(3 * spinFor) })

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				cover("concurrent", 10, nil)
			}
		}()
	}
	wg.Wait()

	var inner atomic.Int32
	p.Parallel(3, func(lo, hi int) {
		p.Parallel(4, func(lo, hi int) { inner.Add(int32(hi - lo)) })
	})
	if inner.Load() != 12 {
		t.Errorf("nested Parallel covered %d of 12", inner.Load())
	}

	func() {
		defer func() { recover() }()
		p.Parallel(3, func(lo, hi int) {
			if lo > 0 {
				panic("worker")
			}
		})
	}()
	cover("after a panic", 9, nil)
}
