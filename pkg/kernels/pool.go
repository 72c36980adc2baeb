package kernels

import (
	"fmt"
	"sync"
)

// Pool runs work on a fixed set of goroutines started once, so a matrix
// product costs a few channel operations rather than goroutine starts. The
// caller's goroutine takes the first chunk of every Parallel call itself,
// so a Pool of n threads keeps n-1 goroutines.
type Pool struct {
	threads int
	workers []chan chunk
	closed  bool

	// scratch holds MatMul's converted activations between calls.
	scratch []byte
}

// chunk is one worker's share of a Parallel call.
type chunk struct {
	fn     func(lo, hi int)
	lo, hi int
	call   *parallelCall
}

// parallelCall tracks one Parallel call: the chunks still running and the
// first panic any of them raised, re-raised on the caller's goroutine.
type parallelCall struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	panicked bool
	value    any
}

func (c *parallelCall) run(fn func(lo, hi int), lo, hi int) {
	defer func() {
		if r := recover(); r != nil {
			c.mu.Lock()
			if !c.panicked {
				c.panicked, c.value = true, r
			}
			c.mu.Unlock()
		}
		c.wg.Done()
	}()
	fn(lo, hi)
}

// NewPool starts a pool of threads workers (the caller counts as one);
// threads below 1 are taken as 1.
func NewPool(threads int) *Pool {
	threads = max(1, threads)
	p := &Pool{threads: threads, workers: make([]chan chunk, threads-1)}
	for i := range p.workers {
		ch := make(chan chunk, 1)
		p.workers[i] = ch
		go func() {
			for c := range ch {
				c.call.run(c.fn, c.lo, c.hi)
			}
		}()
	}
	return p
}

// Threads is the number of goroutines Parallel spreads work over.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. Later Parallel calls run on the caller alone.
// It must not run concurrently with Parallel or MatMul.
func (p *Pool) Close() {
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.workers {
		close(ch)
	}
	p.workers = nil
}

// Parallel calls fn(lo, hi) on contiguous chunks covering [0, n), one chunk
// per worker (fewer when n is small), and returns when all are done. A
// panic in fn is re-raised on the caller's goroutine after every chunk has
// finished. Parallel may be called from several goroutines at once.
func (p *Pool) Parallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parts := min(len(p.workers)+1, n)
	if parts == 1 {
		fn(0, n)
		return
	}
	c := &parallelCall{}
	c.wg.Add(parts)
	for i := 1; i < parts; i++ {
		p.workers[i-1] <- chunk{fn: fn, lo: i * n / parts, hi: (i + 1) * n / parts, call: c}
	}
	c.run(fn, 0, n/parts)
	c.wg.Wait()
	if c.panicked {
		panic(c.value)
	}
}

// MatMul computes out[b*m.Rows+r] = dot(row r of m, x[b*m.Cols:(b+1)*m.Cols])
// for every row r and every b in [0, batch), as ggml's mul_mat does: x is
// converted once to ActivationType(m.Type) by QuantizeActivations (into scratch kept in the pool,
// so one MatMul at a time per pool), then rows are split across the
// workers and each weight row is read once for the whole batch. x and out
// may be longer than needed.
func (p *Pool) MatMul(out []float32, m Matrix, x []float32, batch int) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if !Supported(m.Type) {
		return fmt.Errorf("kernels: matmul: weight type %s not supported", m.Type)
	}
	if batch < 0 || len(x) < batch*m.Cols || len(out) < batch*m.Rows {
		return fmt.Errorf("kernels: matmul %s %dx%d, batch %d: x has %d floats (want %d), out %d (want %d)",
			m.Type, m.Rows, m.Cols, batch, len(x), batch*m.Cols, len(out), batch*m.Rows)
	}
	if batch == 0 || m.Rows == 0 {
		return nil
	}
	k := &typeKernels[m.Type]
	quantize := activationQuantizer(k.act)
	ab, _ := k.act.RowBytes(m.Cols) // Validate checked Cols against the weight block, a multiple of the activation's
	if need := batch * ab; cap(p.scratch) < need {
		p.scratch = make([]byte, need)
	}
	xa := p.scratch[:batch*ab]
	cols, rows := m.Cols, m.Rows
	p.Parallel(batch, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			quantize(xa[b*ab:(b+1)*ab], x[b*cols:(b+1)*cols])
		}
	})
	dot := k.dot
	rb := m.RowBytes()
	p.Parallel(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			wrow := m.Data[r*rb : (r+1)*rb]
			for b := 0; b < batch; b++ {
				out[b*rows+r] = dot(cols, wrow, xa[b*ab:(b+1)*ab])
			}
		}
	})
	return nil
}
