package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Pool runs work on a fixed set of goroutines started once. A Parallel call
// publishes one job with an atomic generation counter; the caller and the
// workers claim chunks of it with a compare-and-swap, each chunk a share of
// what is left (guided scheduling), so chunks shrink towards the end: a
// worker that is slow to start or slowed down (its thread descheduled on a
// busy machine) holds nobody up, the others take its share, and the last
// chunks are small, so the threads finish together. Idle workers spin on the generation for a short while before
// parking, so the back-to-back matrix products of a token cost a few
// atomic operations rather than channel operations and futex wake-ups. A
// Pool of n threads keeps n-1 goroutines: the caller works too.
type Pool struct {
	threads int
	workers []*poolWorker
	closed  bool

	mu   sync.Mutex    // held by the Parallel call that owns the job slot
	gen  atomic.Uint64 // job generation, bumped to publish job
	job  poolJob       // written only while no chunk of the previous job runs
	quit atomic.Bool

	// claim holds the generation (bits 32-63) and the first unclaimed
	// index of the job's range (0-31): a claim for an old generation
	// fails, so a late worker never runs a finished job, and job stays
	// untouched while any claimed chunk runs.
	claim atomic.Uint64
	// shape holds the job's n (bits 0-31) and least chunk (32-63), read
	// by claimers before they claim; it is written only while claim
	// names no generation that can still be claimed (see Parallel).
	shape atomic.Uint64
	div   int          // a chunk is 1/div of what is left (guidedShare*threads)
	done  atomic.Int64 // indices of the current job finished

	// The caller parks on wake when the last chunks take long (see wait).
	callerParked atomic.Bool
	callerWake   chan struct{}

	panicMu    sync.Mutex
	panicked   bool
	panicValue any

	// MatMul's state, kept here so a call allocates nothing.
	scratch  []byte    // converted activations
	prep     []byte    // quad kernels' per-activation data
	lmBuf    []byte    // lane-major activations for the k-quant kernels (pool_kquant.go)
	lmGroups []byte    // their eight-row groups' side data
	scratchF []float32 // the batch kernel's prep data
	mm       matmulJob
	mmQuant  func(lo, hi int)
	mmRows   func(lo, hi int)
	mmQuads  func(lo, hi int)

	blockwise bool // batches in the blockwise kernels' order (SetBlockwise)
}

// SetBlockwise chooses the arithmetic of MatMul's batches (two or more
// activation rows). By default every batch gives the row kernels' bits
// (llama.cpp's vec_dot order): a prompt evaluates as its tokens one at a
// time do, and as llama.cpp's vec_dot. With blockwise on, the types with
// a blockwise batch kernel run it instead: Q4_0 and Q8_0 (on AVX2) sum
// each block's products as one integer and add the blocks' scaled sums
// one after another (dotQBlockwise), as llama.cpp's repacked x86 Q4_0
// kernels do (they fuse the multiply and add; this does not), and F16
// keeps one eight-lane sum per output (dotF16Lanes8). Their outputs
// differ from a row at a time in the last bits of float rounding, which
// a later f16 or Q8_0 rounding can turn into larger logit differences
// (docs/benchmarks.md); they are 2.2-2.5x (Q4_0), 1.5-1.8x (Q8_0) and
// about 1.05x (F16, whose default path shares their tile) faster. Call
// it between MatMul calls, not during one.
func (p *Pool) SetBlockwise(on bool) { p.blockwise = on }

type poolJob struct {
	fn func(lo, hi int)
}

type poolWorker struct {
	parked atomic.Bool
	wake   chan struct{}
}

// spinFor is how long an idle worker (or a waiting caller) spins before it
// parks: longer than the gaps between the matrix products of one token,
// short enough not to hold a core between tokens of a slow consumer.
const spinFor = 200 * time.Microsecond

// guidedShare and grainPerThread set Parallel's chunks: a claim takes
// 1/(guidedShare*threads) of what is left, and never less than
// n/(grainPerThread*threads). With 2 threads the first chunks are a
// quarter of the range and the last 1/32 of it, about twelve claims in
// all: fixed eighths (the earlier split) left one thread idle for up to
// an eighth of every matrix product whenever the other started late or
// ran slower, as threads on this shared machine do.
const (
	guidedShare    = 2
	grainPerThread = 16
)

// maxParallel bounds Parallel's n: claim keeps an index in 32 bits.
const maxParallel = 1<<31 - 1

// NewPool starts a pool of threads workers (the caller counts as one);
// threads below 1 are taken as 1.
func NewPool(threads int) *Pool {
	threads = max(1, threads)
	p := &Pool{threads: threads, div: guidedShare * threads, callerWake: make(chan struct{}, 1)}
	p.mmQuant, p.mmRows, p.mmQuads = p.matmulQuantize, p.matmulRows, p.matmulQuads
	for i := 1; i < threads; i++ {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go p.work(w)
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
	p.quit.Store(true)
	p.gen.Add(1)
	for _, w := range p.workers {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	p.workers = nil
}

// work is a worker's loop: wait for a new generation, claim and run its
// chunks until none are left, repeat.
func (p *Pool) work(w *poolWorker) {
	var seen uint64 // the generation NewPool started at, however late this goroutine runs
	for {
		seen = p.awaitGen(w, seen)
		if p.quit.Load() {
			return
		}
		p.runChunks(seen)
	}
}

// runChunks claims and runs chunks of generation g until there are none
// left (or the job is already another one).
func (p *Pool) runChunks(g uint64) {
	for {
		c := p.claim.Load()
		if c>>32 != g&0xffffffff {
			return
		}
		// A shape of the next job read here comes with a claim word that
		// has changed since c was loaded, so the CAS fails.
		sh := p.shape.Load()
		n, grain := int(sh&0xffffffff), int(sh>>32)
		lo := int(c & 0xffffffff)
		if lo >= n {
			return
		}
		hi := min(lo+max(grain, (n-lo)/p.div), n)
		if !p.claim.CompareAndSwap(c, c+uint64(hi-lo)) {
			continue
		}
		j := p.job // safe: [lo, hi) is claimed and unfinished, so job is generation g's
		p.runChunk(j.fn, lo, hi)
		if p.done.Add(int64(hi-lo)) == int64(n) && p.callerParked.CompareAndSwap(true, false) {
			p.callerWake <- struct{}{}
		}
	}
}

// awaitGen spins until the generation moves past seen, then parks until
// the caller wakes it. The parked flag and the generation are checked in
// opposite orders by the two sides, so a wake-up is never lost: whoever
// clears the flag owns the token on wake.
func (p *Pool) awaitGen(w *poolWorker, seen uint64) uint64 {
	deadline := time.Time{}
	for spins := 0; ; spins++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if spins&255 != 255 {
			continue
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(spinFor)
			continue
		}
		if now.Before(deadline) {
			osYield()
			continue
		}
		w.parked.Store(true)
		if g := p.gen.Load(); g != seen {
			if !w.parked.CompareAndSwap(true, false) {
				<-w.wake // the caller cleared the flag first: its token is on the way
			}
			return g
		}
		<-w.wake
		deadline = time.Time{}
	}
}

// wait returns when all n indices of the current job are done: spinning
// first, parking if that takes long.
func (p *Pool) wait(n int64) {
	deadline := time.Time{}
	for spins := 0; p.done.Load() != n; spins++ {
		if spins&255 != 255 {
			continue
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(spinFor)
			continue
		}
		if now.Before(deadline) {
			osYield()
			continue
		}
		p.callerParked.Store(true)
		if p.done.Load() == n {
			if !p.callerParked.CompareAndSwap(true, false) {
				<-p.callerWake
			}
			return
		}
		<-p.callerWake
		return
	}
}

// runChunk runs fn over [lo, hi), recording the first panic of the job.
func (p *Pool) runChunk(fn func(lo, hi int), lo, hi int) {
	defer func() {
		if r := recover(); r != nil {
			p.panicMu.Lock()
			if !p.panicked {
				p.panicked, p.panicValue = true, r
			}
			p.panicMu.Unlock()
		}
	}()
	fn(lo, hi)
}

// Parallel calls fn(lo, hi) on disjoint contiguous chunks covering [0, n)
// on the pool's goroutines and the caller's (chunks claimed as the
// threads get to them, large first, then smaller: see guidedShare), and
// returns when all are done. A panic in
// fn is re-raised on the caller's goroutine after every chunk has
// finished. Parallel may be called from several goroutines at once, or from
// inside fn: a call that finds the pool busy runs fn(0, n) itself.
func (p *Pool) Parallel(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if n == 1 || n > maxParallel || len(p.workers) == 0 || !p.mu.TryLock() {
		fn(0, n)
		return
	}
	defer p.mu.Unlock()
	g := p.gen.Load() + 1
	// The claim word names g with no index left before job and shape
	// change: a claimer still on the last job fails its CAS from here on,
	// and one that reads the new shape has a stale claim word.
	p.claim.Store(g<<32 | 0xffffffff)
	p.job = poolJob{fn: fn}
	p.shape.Store(uint64(n) | uint64(max(1, n/(grainPerThread*(len(p.workers)+1))))<<32)
	p.done.Store(0)
	p.claim.Store(g << 32)
	p.gen.Store(g) // publishes the job to the workers
	for _, w := range p.workers {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	p.runChunks(g)
	p.wait(int64(n))
	p.job.fn = nil
	if p.panicked {
		v := p.panicValue
		p.panicked, p.panicValue = false, nil
		panic(v)
	}
}

// matmulJob is one MatMul call's operands, read by its chunks.
type matmulJob struct {
	m            Matrix
	k            *typeKernel
	dot4         dot4Kernel
	tok4         tok4Kernel
	rowsK        rowsKernel
	quad         quadKernel // for LayoutQuads
	prep         []byte
	pb           int // prep bytes per activation row
	quantize     func(dst []byte, src []float32)
	out, x       []float32
	xa           []byte
	batch, ab    int
	rowBytes     int
	kq           *kquantKernels // lane-major kernels for m.Type, or nil
	lm           []byte         // lane-major activation rows, lmStride bytes apart
	lmStride     int
	lmGroups     []byte // side data of the eight-row groups, lmGroupBytes apart
	lmGroupBytes int
	bk           *batchKernel // nil below a batch of 2
	xf           []float32    // bk's prep data, fb floats per activation row (laid out as bk likes)
	fb           int
}

func (p *Pool) matmulQuantize(lo, hi int) {
	j := &p.mm
	cols := j.m.Cols
	for b := lo; b < hi; b++ {
		if j.kq != nil {
			p.quantizeLaneMajor(b)
			continue
		}
		j.quantize(j.xa[b*j.ab:(b+1)*j.ab], j.x[b*cols:(b+1)*cols])
		if j.pb > 0 {
			j.quad.prep(j.prep[b*j.pb:(b+1)*j.pb], j.xa[b*j.ab:(b+1)*j.ab], cols)
		}
		if j.fb > 0 {
			j.bk.prep(j, b)
		}
	}
}

// matmulQuads is matmulRows over rows [4*lo, 4*hi), clipped to the matrix.
func (p *Pool) matmulQuads(lo, hi int) { p.matmulRows(4*lo, min(4*hi, p.mm.m.Rows)) }

func (p *Pool) matmulRows(lo, hi int) {
	j := &p.mm
	if j.kq != nil {
		p.matmulRowsLaneMajor(lo, hi)
		return
	}
	rows, cols, rb, ab := j.m.Rows, j.m.Cols, j.rowBytes, j.ab
	dot := j.k.dot
	if j.bk != nil {
		lo = j.bk.rows(j, lo, hi)
	}
	if quad := j.quad.dot; quad != nil && j.m.Layout == LayoutQuads {
		// lo is a multiple of 4 (matmulQuads), and so is hi but at the
		// matrix's end, where LayoutQuads has whole quads.
		if qr := j.quad.rows; qr != nil && j.batch == 1 {
			qr(cols, j.m.Data[lo*rb:hi*rb], j.xa[:ab], j.prep[:j.pb], j.out[lo:hi])
			return
		}
		// One quad at a time; its bytes stay in L1 across the batch.
		for ; lo+4 <= hi; lo += 4 {
			w := j.m.Data[lo*rb : (lo+4)*rb]
			for b := 0; b < j.batch; b++ {
				quad(cols, w, j.xa[b*ab:(b+1)*ab], j.prep[b*j.pb:(b+1)*j.pb], (*[4]float32)(j.out[b*rows+lo:]))
			}
		}
	} else if dot4 := j.dot4; dot4 != nil && j.m.Layout == LayoutRows {
		// Four rows at a time; their bytes stay in L1 across the batch.
		for ; lo+4 <= hi; lo += 4 {
			w := j.m.Data[lo*rb : (lo+4)*rb]
			for b := 0; b < j.batch; b++ {
				dot4(cols, w, rb, j.m.Type.BlockBytes(), j.xa[b*ab:(b+1)*ab], (*[4]float32)(j.out[b*rows+lo:]))
			}
		}
	}
	var buf []byte // a repacked row in ggml's order, for dot
	rowMajor := j.m.Layout == LayoutRows
	if rk := j.rowsK; rk != nil && rowMajor && j.batch == 1 && lo < hi {
		// One activation row: every row in one call.
		rk(cols, j.m.Data[lo*rb:hi*rb], rb, j.xa[:ab], j.out[lo:hi])
		return
	}
	for r := lo; r < hi; r++ {
		// Sliced here for row-major weights: small models' rows are a few
		// dozen bytes, and ggmlRow's call was a fifth of their token time.
		var wrow []byte
		if rowMajor {
			wrow = j.m.Data[r*rb : (r+1)*rb]
		} else {
			wrow = j.m.ggmlRow(&buf, r)
		}
		b := 0
		if tok4 := j.tok4; tok4 != nil {
			// Four tokens a call: the row's blocks are decoded once for
			// the four.
			var o [4]float32
			for ; b+4 <= j.batch; b += 4 {
				tok4(cols, wrow, j.xa[b*ab:(b+4)*ab], ab, &o)
				for i, v := range o {
					j.out[(b+i)*rows+r] = v
				}
			}
		}
		for ; b < j.batch; b++ {
			j.out[b*rows+r] = dot(cols, wrow, j.xa[b*ab:(b+1)*ab])
		}
	}
}

// parallelMinBytes is the least weight traffic (bytes times batch) worth
// splitting across workers: below it the hand-off costs more than it saves.
const parallelMinBytes = 32 << 10

// MatMul computes out[b*m.Rows+r] = dot(row r of m, x[b*m.Cols:(b+1)*m.Cols])
// for every row r and every b in [0, batch), as ggml's mul_mat does: x is
// converted once to ActivationType(m.Type) by QuantizeActivations (into
// scratch kept in the pool, so one MatMul at a time per pool), then rows
// are split across the workers and each weight row is read once for the
// whole batch. x and out may be longer than needed.
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
	if n := (batch + maxMatMulBatch - 1) / maxMatMulBatch; n > 1 {
		for t := 0; t < batch; {
			b := (batch - t) / n
			n--
			p.matmul(out[t*m.Rows:], m, x[t*m.Cols:], b)
			t += b
		}
		return nil
	}
	p.matmul(out, m, x, batch)
	return nil
}

// maxMatMulBatch is the most tokens one pass of the batch kernels takes:
// longer batches run in near-equal parts, so that a part's activations
// stay in L2 while each group of weight rows passes over them.
const maxMatMulBatch = 128

// matmul is MatMul for a batch of at most maxMatMulBatch tokens, its
// arguments checked.
func (p *Pool) matmul(out []float32, m Matrix, x []float32, batch int) {
	k := &typeKernels[m.Type]
	ab, _ := k.act.RowBytes(m.Cols) // Validate checked Cols against the weight block, a multiple of the activation's
	p.scratch = grow(p.scratch, batch*ab)
	p.mm = matmulJob{
		m: m, k: k, dot4: dot4Kernels[m.Type], tok4: tok4Kernels[m.Type], rowsK: rowsKernels[m.Type], quantize: activationQuantizer(k.act),
		out: out, x: x, xa: p.scratch,
		batch: batch, ab: ab, rowBytes: m.RowBytes(),
	}
	p.setupLaneMajor(m, batch)
	bk := batchKernels[m.Type]
	if b := blockwiseKernels[m.Type]; b != nil && p.blockwise {
		bk = b
	}
	if bk != nil && batch >= 2 {
		p.mm.bk = bk
		if bk.prepLen != nil {
			p.mm.fb = bk.prepLen(m.Cols)
		}
		if p.mm.fb > 0 {
			p.scratchF = grow(p.scratchF, batch*p.mm.fb)
			p.mm.xf = p.scratchF
		}
	}
	if m.Layout == LayoutQuads && p.mm.bk == nil {
		q := quadKernels[m.Type]
		p.mm.quad = q
		if q.prep != nil {
			p.mm.pb = q.prepBytes(m.Cols)
			p.prep = grow(p.prep, batch*p.mm.pb)
			p.mm.prep = p.prep
		}
	}
	if len(m.Data)*batch < parallelMinBytes {
		p.matmulQuantize(0, batch)
		p.matmulRows(0, m.Rows)
	} else {
		p.Parallel(batch, p.mmQuant)
		if p.mm.quad.dot != nil || p.mm.dot4 != nil || p.mm.bk != nil {
			p.Parallel((m.Rows+3)/4, p.mmQuads) // chunks of whole row quads
		} else {
			p.Parallel(m.Rows, p.mmRows)
		}
	}
	p.mm = matmulJob{}
}

// grow returns b resized to n, reallocated when its capacity is short.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}
