package loader

import (
	"fmt"
	"sort"
	"sync"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
)

// StreamOptions size a Streamer.
type StreamOptions struct {
	// Slots is the number of layer buffers in the ring (2 or more): layer
	// i+1 .. i+Slots-1 load while layer i computes.
	Slots int
	// OutputBudget is how many bytes the classifier may take to stay
	// resident; a larger one is streamed through the ring like a layer.
	OutputBudget int64
	// Progress, when set, is told of every item loaded (bytes so far of
	// the pass, bytes of one pass over the weights).
	Progress func(done, total int64)
}

// Streamer serves weights from a Source through a ring of layer-sized
// buffers: the streaming strategy. What every token needs and is small stays
// resident: the norms, the embedding rows actually used, and the classifier
// when it fits OutputBudget. A goroutine loads items (layers, then the
// classifier if streamed) in the order the forward pass consumes them, as
// far ahead as free buffers allow.
type Streamer struct {
	src   Source
	cfg   model.Config
	items []item // layers 0..L-1, then the classifier if streamed
	embd  model.Tensor
	out   kernels.Matrix // resident classifier, or the last item's
	outIx int            // index of the streamed classifier in items, -1 if resident
	norm  []float32      // output_norm
	pass  int64          // bytes per pass over the streamed items

	mu      sync.Mutex
	cond    *sync.Cond
	slots   []*slot
	next    int64 // sequence number the fetcher loads next
	consume int64 // sequence number the forward pass consumes next
	held    int64 // sequence number of the item the forward pass holds, -1 if none
	loaded  int64 // bytes loaded so far (all passes)
	closed  bool
	err     error

	embdMu    sync.Mutex
	embdCache map[int][]float32
	rowBuf    []byte
}

// item is one unit of streaming: a layer's tensors, or the classifier.
type item struct {
	tensors []model.Tensor // in file order
	spans   []span         // contiguous byte ranges covering tensors
	size    int64          // bytes of buffer the item needs
}

// span is a contiguous range of the file read with one request, and where
// it lands in the slot buffer.
type span struct {
	off, len, at int64
}

type slot struct {
	seq   int64 // sequence number loaded, -1 if none
	ready bool
	buf   []byte
	lw    llm.LayerWeights
	out   kernels.Matrix
}

// maxGap is the most padding between two tensors that a single read may
// span: GGUF aligns tensors to 32 bytes, so neighbours are a few bytes apart.
const maxGap = 64 << 10

// Stream prepares a Streamer for m, whose tensors are read from src at
// their file offsets. It reads the resident tensors now.
func Stream(m *model.Model, src Source, opts StreamOptions) (*Streamer, error) {
	if opts.Slots < 2 {
		opts.Slots = 2
	}
	s := &Streamer{src: src, cfg: m.Config, outIx: -1, held: -1, embdCache: map[int][]float32{}}
	s.cond = sync.NewCond(&s.mu)
	var err error
	for i := 0; i < m.Config.Layers; i++ {
		var ts []model.Tensor
		for _, part := range model.LayerParts {
			t, ok := m.Tensor(model.LayerTensor(i, part))
			if !ok {
				return nil, fmt.Errorf("tensor %q is missing", model.LayerTensor(i, part))
			}
			if part != "attn_norm" && part != "ffn_norm" {
				if err := supported(t); err != nil {
					return nil, err
				}
			}
			ts = append(ts, t)
		}
		s.items = append(s.items, newItem(ts))
	}
	if s.embd, err = tensorOf(m, model.TokenEmbd); err != nil {
		return nil, err
	}
	if err := supported(s.embd); err != nil {
		return nil, err
	}
	outT := s.embd
	if t, ok := m.Tensor(model.Output); ok {
		outT = t
	}
	if err := supported(outT); err != nil {
		return nil, err
	}
	outBytes := tensorBytes(outT)
	if outBytes <= opts.OutputBudget {
		buf := make([]byte, outBytes)
		if err := s.read(buf, outT.Offset); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", outT.Name, err)
		}
		s.out = kernels.Matrix{Type: outT.Type, Rows: outT.Rows(), Cols: outT.Cols(), Data: buf}
	} else {
		s.outIx = len(s.items)
		s.items = append(s.items, newItem([]model.Tensor{outT}))
	}
	normT, err := tensorOf(m, model.OutputNorm)
	if err != nil {
		return nil, err
	}
	if s.norm, err = s.readVector(normT); err != nil {
		return nil, err
	}

	var maxItem int64
	for _, it := range s.items {
		maxItem = max(maxItem, it.size)
		s.pass += it.size
	}
	// More buffers than items would only hold copies.
	n := min(opts.Slots, len(s.items))
	for i := 0; i < n; i++ {
		s.slots = append(s.slots, &slot{seq: -1, buf: make([]byte, maxItem)})
	}
	s.rowBuf = make([]byte, tensorBytes(s.embd)/int64(s.embd.Rows()))
	go s.fetch(opts.Progress)
	return s, nil
}

func tensorOf(m *model.Model, name string) (model.Tensor, error) {
	t, ok := m.Tensor(name)
	if !ok {
		return t, fmt.Errorf("tensor %q is missing", name)
	}
	return t, nil
}

func tensorBytes(t model.Tensor) int64 {
	rb, _ := t.Type.RowBytes(t.Cols()) // model.check validated the shape
	return int64(rb) * int64(t.Rows())
}

// newItem lays out an item's tensors: sorted by offset, neighbours within
// maxGap merged into one read.
func newItem(ts []model.Tensor) item {
	sorted := append([]model.Tensor(nil), ts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	it := item{tensors: sorted}
	for _, t := range sorted {
		n := tensorBytes(t)
		if k := len(it.spans) - 1; k >= 0 {
			last := &it.spans[k]
			if gap := t.Offset - (last.off + last.len); gap >= 0 && gap <= maxGap {
				last.len += gap + n
				it.size += gap + n
				continue
			}
		}
		it.spans = append(it.spans, span{off: t.Offset, len: n, at: it.size})
		it.size += n
	}
	return it
}

// read fills buf from the source at off.
func (s *Streamer) read(buf []byte, off int64) error {
	n, err := s.src.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("short read: %d of %d bytes", n, len(buf))
	}
	return fmt.Errorf("%s: reading %d bytes at offset %d: %w", s.src.Name(), len(buf), off, err)
}

// readVector reads a small 1-D tensor (a norm) and decodes it to float32.
func (s *Streamer) readVector(t model.Tensor) ([]float32, error) {
	buf := make([]byte, tensorBytes(t))
	if err := s.read(buf, t.Offset); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return decodeNorm(nil, t, buf)
}

// fetch loads items in consumption order into free slots until Close.
func (s *Streamer) fetch(progress func(done, total int64)) {
	for {
		s.mu.Lock()
		seq := s.next
		sl := s.slots[seq%int64(len(s.slots))]
		// A slot is free when the item it holds has been consumed.
		for !s.closed && s.err == nil && sl.seq >= 0 && sl.seq >= s.consume {
			s.cond.Wait()
		}
		if s.closed || s.err != nil {
			s.mu.Unlock()
			return
		}
		if len(s.items) <= len(s.slots) && seq >= int64(len(s.items)) {
			// Every item has a slot of its own: loaded once, kept.
			s.mu.Unlock()
			return
		}
		sl.ready = false
		sl.seq = seq
		s.mu.Unlock()

		err := s.load(sl, int(seq%int64(len(s.items))))

		s.mu.Lock()
		if err != nil {
			s.err = err
		} else {
			sl.ready = true
			s.loaded += s.items[seq%int64(len(s.items))].size
			if progress != nil {
				progress(s.loaded, s.pass)
			}
		}
		s.next++
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// load reads item ix into sl and builds the kernels' views of it.
func (s *Streamer) load(sl *slot, ix int) error {
	it := s.items[ix]
	buf := sl.buf[:it.size]
	for _, sp := range it.spans {
		if err := s.read(buf[sp.at:sp.at+sp.len], sp.off); err != nil {
			return err
		}
	}
	// Where each tensor landed in the buffer.
	at := map[string][]byte{}
	for _, t := range it.tensors {
		for _, sp := range it.spans {
			if t.Offset >= sp.off && t.Offset < sp.off+sp.len {
				start := sp.at + t.Offset - sp.off
				at[t.Name] = buf[start : start+tensorBytes(t)]
			}
		}
	}
	view := func(t model.Tensor) kernels.Matrix {
		return kernels.Matrix{Type: t.Type, Rows: t.Rows(), Cols: t.Cols(), Data: at[t.Name]}
	}
	if ix == s.outIx {
		sl.out = view(it.tensors[0])
		return nil
	}
	lw := &sl.lw
	for _, t := range it.tensors {
		var err error
		switch t.Name {
		case model.LayerTensor(ix, "attn_norm"):
			lw.AttnNorm, err = decodeNorm(lw.AttnNorm, t, at[t.Name])
		case model.LayerTensor(ix, "ffn_norm"):
			lw.FFNNorm, err = decodeNorm(lw.FFNNorm, t, at[t.Name])
		case model.LayerTensor(ix, "attn_q"):
			lw.Q = view(t)
		case model.LayerTensor(ix, "attn_k"):
			lw.K = view(t)
		case model.LayerTensor(ix, "attn_v"):
			lw.V = view(t)
		case model.LayerTensor(ix, "attn_output"):
			lw.O = view(t)
		case model.LayerTensor(ix, "ffn_gate"):
			lw.Gate = view(t)
		case model.LayerTensor(ix, "ffn_up"):
			lw.Up = view(t)
		case model.LayerTensor(ix, "ffn_down"):
			lw.Down = view(t)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// acquire waits for item ix to be loaded and returns its slot. Items must be
// consumed in order; the one held before is released.
func (s *Streamer) acquire(ix int) (*slot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held >= 0 {
		// The forward pass moved on without releasing (the classifier).
		s.consume = s.held + 1
		s.held = -1
		s.cond.Broadcast()
	}
	// Resynchronise if the caller starts a new pass early (an aborted Eval).
	for s.consume%int64(len(s.items)) != int64(ix) {
		s.consume++
	}
	seq := s.consume
	sl := s.slots[seq%int64(len(s.slots))]
	if len(s.items) <= len(s.slots) {
		sl = s.slots[ix]
		seq = int64(ix)
	}
	for !(sl.seq == seq && sl.ready) {
		// An error loading a later item does not spoil a ready one.
		if s.err != nil {
			return nil, s.err
		}
		if s.closed {
			return nil, fmt.Errorf("streamer closed")
		}
		s.cond.Wait()
	}
	s.held = s.consume
	return sl, nil
}

// Layer waits until layer i is in a buffer and returns views of it.
func (s *Streamer) Layer(i int) (*llm.LayerWeights, error) {
	if i < 0 || i >= s.cfg.Layers {
		return nil, fmt.Errorf("layer %d out of range [0,%d)", i, s.cfg.Layers)
	}
	sl, err := s.acquire(i)
	if err != nil {
		return nil, fmt.Errorf("layer %d: %w", i, err)
	}
	return &sl.lw, nil
}

// Release hands layer i's buffer back for the fetcher to refill.
func (s *Streamer) Release(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held >= 0 && s.held%int64(len(s.items)) == int64(i) {
		s.consume = s.held + 1
		s.held = -1
		s.cond.Broadcast()
	}
}

// Embedding reads (once) and decodes the embedding row of token.
func (s *Streamer) Embedding(token int, dst []float32) error {
	if token < 0 || token >= s.embd.Rows() {
		return fmt.Errorf("token %d out of range [0,%d)", token, s.embd.Rows())
	}
	s.embdMu.Lock()
	defer s.embdMu.Unlock()
	if row, ok := s.embdCache[token]; ok {
		copy(dst, row)
		return nil
	}
	rb := int64(len(s.rowBuf))
	if err := s.read(s.rowBuf, s.embd.Offset+int64(token)*rb); err != nil {
		return fmt.Errorf("embedding of token %d: %w", token, err)
	}
	row := make([]float32, s.embd.Cols())
	if err := kernels.DequantizeRow(s.embd.Type, row, s.rowBuf); err != nil {
		return err
	}
	// Prompts and stories reuse few distinct tokens; the cache stays small.
	if len(s.embdCache) < 1<<14 {
		s.embdCache[token] = row
	}
	copy(dst, row)
	return nil
}

// OutputNorm returns the final norm's weights.
func (s *Streamer) OutputNorm() []float32 { return s.norm }

// Output returns the classifier: resident, or streamed as the last item.
func (s *Streamer) Output() (kernels.Matrix, error) {
	if s.outIx < 0 {
		return s.out, nil
	}
	sl, err := s.acquire(s.outIx)
	if err != nil {
		return kernels.Matrix{}, fmt.Errorf("output: %w", err)
	}
	return sl.out, nil
}

// PassBytes is the number of bytes one forward pass streams.
func (s *Streamer) PassBytes() int64 { return s.pass }

// Loaded is the number of bytes streamed so far.
func (s *Streamer) Loaded() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loaded
}

// BufferBytes is the memory the ring of buffers holds.
func (s *Streamer) BufferBytes() int64 {
	var n int64
	for _, sl := range s.slots {
		n += int64(len(sl.buf))
	}
	return n
}

// Close stops the fetcher. The source is the caller's to close.
func (s *Streamer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	return nil
}
