package llm

import (
	"fmt"
	"math"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/model"
)

// Options size an Engine.
type Options struct {
	Context int    // KV cache length in tokens; 0 means the model's training context
	KVType  KVType // cache element type
}

// Engine evaluates a llama model over one sequence: it owns the KV cache and
// the activation buffers.
type Engine struct {
	cfg  model.Config
	w    Weights
	pool *kernels.Pool
	kv   *kvCache
	ctx  int

	// Activations for a batch of up to cap tokens; grown on demand.
	cap                 int
	x, xb, q, k, v, att []float32
	hb, hb2, proj       []float32
	scratch             []*attnScratch // one per worker
	logits              []float32
}

// NewEngine prepares an engine for cfg, reading weights from w and running
// matrix work on pool.
func NewEngine(cfg model.Config, w Weights, pool *kernels.Pool, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx := opts.Context
	if ctx <= 0 {
		ctx = cfg.Context
	}
	e := &Engine{cfg: cfg, w: w, pool: pool, ctx: ctx}
	e.kv = newKVCache(opts.KVType, cfg.Layers, ctx, cfg.KVDim())
	return e, nil
}

// Context is the number of positions the KV cache holds.
func (e *Engine) Context() int { return e.ctx }

// KVBytes is the size of the KV cache in bytes.
func (e *Engine) KVBytes() int64 { return e.kv.Bytes() }

// Config returns the model's hyper-parameters.
func (e *Engine) Config() model.Config { return e.cfg }

func (e *Engine) grow(n int) {
	if n <= e.cap {
		return
	}
	c := e.cfg
	qDim := c.Heads * c.HeadDim
	e.cap = n
	e.x = make([]float32, n*c.Dim)
	e.xb = make([]float32, n*c.Dim)
	e.q = make([]float32, n*qDim)
	e.k = make([]float32, n*c.KVDim())
	e.v = make([]float32, n*c.KVDim())
	e.att = make([]float32, n*qDim)
	e.proj = make([]float32, n*c.Dim)
	e.hb = make([]float32, n*c.Hidden)
	e.hb2 = make([]float32, n*c.Hidden)
}

// Eval runs the tokens at positions pos, pos+1, ... through the model as one
// batch, filling the KV cache. It returns the logits of the last token, or of
// every token (row-major, len(tokens)×Vocab) when all is set. The returned
// slice is reused by the next call.
func (e *Engine) Eval(tokens []int, pos int, all bool) ([]float32, error) {
	c := e.cfg
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("llm: no tokens to evaluate")
	}
	if pos < 0 || pos+n > e.ctx {
		return nil, fmt.Errorf("llm: positions %d..%d do not fit the context of %d tokens", pos, pos+n-1, e.ctx)
	}
	e.grow(n)
	dim, kvDim, hd := c.Dim, c.KVDim(), c.HeadDim
	qDim := c.Heads * hd
	for i, tok := range tokens {
		if tok < 0 || tok >= c.Vocab {
			return nil, fmt.Errorf("llm: token %d is outside the vocabulary of %d", tok, c.Vocab)
		}
		if err := e.w.Embedding(tok, e.x[i*dim:(i+1)*dim]); err != nil {
			return nil, fmt.Errorf("llm: embedding of token %d: %w", tok, err)
		}
	}
	x, xb := e.x[:n*dim], e.xb[:n*dim]
	q, k, v := e.q[:n*qDim], e.k[:n*kvDim], e.v[:n*kvDim]
	att, proj := e.att[:n*qDim], e.proj[:n*dim]
	hb, hb2 := e.hb[:n*c.Hidden], e.hb2[:n*c.Hidden]
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := c.Heads / c.KVHeads
	if len(e.scratch) < e.pool.Threads() {
		e.scratch = make([]*attnScratch, e.pool.Threads())
		for i := range e.scratch {
			e.scratch[i] = newAttnScratch(e.ctx)
		}
	}

	for l := 0; l < c.Layers; l++ {
		lw, err := e.w.Layer(l)
		if err != nil {
			return nil, fmt.Errorf("llm: layer %d: %w", l, err)
		}
		// Attention block.
		for i := 0; i < n; i++ {
			kernels.RMSNorm(xb[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], lw.AttnNorm, c.RMSEps)
		}
		if err := e.matmul(q, lw.Q, xb, n, "attn_q", l); err != nil {
			return nil, err
		}
		if err := e.matmul(k, lw.K, xb, n, "attn_k", l); err != nil {
			return nil, err
		}
		if err := e.matmul(v, lw.V, xb, n, "attn_v", l); err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			kernels.RoPE(q[i*qDim:(i+1)*qDim], pos+i, hd, c.RopeBase)
			kernels.RoPE(k[i*kvDim:(i+1)*kvDim], pos+i, hd, c.RopeBase)
			e.kv.store(l, pos+i, k[i*kvDim:(i+1)*kvDim], v[i*kvDim:(i+1)*kvDim])
		}
		// One task per (token, head), split into one share per worker so
		// that each share owns a scratch row for its scores.
		tasks, shares := n*c.Heads, len(e.scratch)
		e.pool.Parallel(shares, func(slo, shi int) {
			for s := slo; s < shi; s++ {
				sc := e.scratch[s]
				for t := s * tasks / shares; t < (s+1)*tasks/shares; t++ {
					i, h := t/c.Heads, t%c.Heads
					off := (h / group) * hd
					e.kv.attend(l, pos+i, off, q[i*qDim+h*hd:i*qDim+(h+1)*hd], att[i*qDim+h*hd:i*qDim+(h+1)*hd], sc, scale)
				}
			}
		})
		if err := e.matmul(proj, lw.O, att, n, "attn_output", l); err != nil {
			return nil, err
		}
		for j := range x {
			x[j] += proj[j]
		}
		// Feed-forward block (SwiGLU).
		for i := 0; i < n; i++ {
			kernels.RMSNorm(xb[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], lw.FFNNorm, c.RMSEps)
		}
		if err := e.matmul(hb, lw.Gate, xb, n, "ffn_gate", l); err != nil {
			return nil, err
		}
		if err := e.matmul(hb2, lw.Up, xb, n, "ffn_up", l); err != nil {
			return nil, err
		}
		// Row by row: ggml's swiglu vectorises within a row, and where its
		// 16-wide groups end changes the last bit.
		for i := 0; i < n; i++ {
			r := hb[i*c.Hidden : (i+1)*c.Hidden]
			kernels.SwiGLU(r, r, hb2[i*c.Hidden:(i+1)*c.Hidden])
		}
		if err := e.matmul(proj, lw.Down, hb, n, "ffn_down", l); err != nil {
			return nil, err
		}
		for j := range x {
			x[j] += proj[j]
		}
		e.w.Release(l)
	}

	// Final norm and classifier, for the last token or all of them.
	first := n - 1
	if all {
		first = 0
	}
	rows := n - first
	outNorm := e.w.OutputNorm()
	for i := first; i < n; i++ {
		kernels.RMSNorm(xb[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim], outNorm, c.RMSEps)
	}
	out, err := e.w.Output()
	if err != nil {
		return nil, fmt.Errorf("llm: output: %w", err)
	}
	if cap(e.logits) < rows*c.Vocab {
		e.logits = make([]float32, rows*c.Vocab)
	}
	logits := e.logits[:rows*c.Vocab]
	if err := e.pool.MatMul(logits, out, xb[first*dim:n*dim], rows); err != nil {
		return nil, fmt.Errorf("llm: output: %w", err)
	}
	return logits, nil
}

func (e *Engine) matmul(out []float32, m kernels.Matrix, x []float32, n int, name string, layer int) error {
	if err := e.pool.MatMul(out, m, x, n); err != nil {
		return fmt.Errorf("llm: layer %d %s: %w", layer, name, err)
	}
	return nil
}
