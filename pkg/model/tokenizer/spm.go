package tokenizer

import (
	"strings"
	"sync"
)

// Encode tokenizes text as llama.cpp's llama_tokenize(text, add_special,
// parse_special) does for a SentencePiece vocabulary.
//
// addBOS is llama.cpp's add_special: it adds BOS when the vocabulary's AddBOS
// is set and EOS when its AddEOS is set. With parseSpecial, control and
// unknown pieces written in the text ("<s>") become their single ids;
// user-defined pieces always do. The rest goes through SentencePiece BPE,
// each fragment after the start or after a special token getting the dummy
// prefix space when AddSpacePrefix is set.
func (t *Tokenizer) Encode(text string, addBOS, parseSpecial bool) []int {
	v := &t.vocab
	out := make([]int, 0, len(text)/3+4)
	if addBOS && v.AddBOS && v.BOS >= 0 {
		out = append(out, v.BOS)
	}
	s := sessions.Get().(*spmSession)
	defer sessions.Put(s)
	prevSpecial := true // the first fragment gets the dummy prefix
	for _, f := range t.partition(text, parseSpecial) {
		if f.id >= 0 {
			out = append(out, int(f.id))
			prevSpecial = true
			continue
		}
		frag := text[f.start:f.end]
		if v.AddSpacePrefix && prevSpecial {
			frag = " " + frag
		}
		out = s.tokenize(t, strings.ReplaceAll(frag, " ", spaceRune), out)
		prevSpecial = false
	}
	if addBOS && v.AddEOS && v.EOS >= 0 {
		out = append(out, v.EOS)
	}
	return out
}

// fragment is a piece of the input: raw text [start, end) when id < 0, else
// a special token found in the text.
type fragment struct {
	start, end int
	id         int32
}

// partition splits text around the special pieces it contains, as
// llama.cpp's tokenizer_st_partition: longest special first, every
// occurrence, left to right. Without parseSpecial only user-defined pieces
// are split out.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{0, len(text), -1}}
	for _, id := range t.specials {
		if !parseSpecial && t.vocab.Type(int(id)) != UserDefined {
			continue
		}
		piece := t.vocab.Tokens[id]
		var next []fragment
		for i, f := range frags {
			if f.id >= 0 || !strings.Contains(text[f.start:f.end], piece) {
				if next != nil {
					next = append(next, f)
				}
				continue
			}
			if next == nil {
				next = append(make([]fragment, 0, len(frags)+4), frags[:i]...)
			}
			pos := f.start
			for pos < f.end {
				k := strings.Index(text[pos:f.end], piece)
				if k < 0 {
					break
				}
				if k > 0 {
					next = append(next, fragment{pos, pos + k, -1})
				}
				next = append(next, fragment{0, 0, id})
				pos += k + len(piece)
			}
			if pos < f.end {
				next = append(next, fragment{pos, f.end, -1})
			}
		}
		if next != nil {
			frags = next
		}
	}
	return frags
}

// sessions recycles the work arrays of spmSession between calls.
var sessions = sync.Pool{New: func() any { return new(spmSession) }}

// spmSession is llama.cpp's llm_tokenizer_spm_session: the text split into
// UTF-8 characters, then adjacent symbols merged, highest scoring merge
// first (leftmost on ties), while the merged piece is in the vocabulary.
type spmSession struct {
	syms  []spmSymbol
	queue bigramQueue
}

type spmSymbol struct {
	prev, next int32 // neighbours in the linked list, -1 at the ends
	start, n   int32 // bytes of the text; n == 0 once merged into its left neighbour
}

type bigram struct {
	left, right int32
	score       float32
	size        int32
}

func (s *spmSession) tokenize(t *Tokenizer, text string, out []int) []int {
	if text == "" {
		return out
	}
	s.syms = s.syms[:0]
	s.queue = s.queue[:0]
	for offs := 0; offs < len(text); {
		n := min(utf8Len(text[offs]), len(text)-offs)
		idx := int32(len(s.syms))
		next := idx + 1
		if offs+n == len(text) {
			next = -1
		}
		s.syms = append(s.syms, spmSymbol{prev: idx - 1, next: next, start: int32(offs), n: int32(n)})
		offs += n
	}
	for i := 1; i < len(s.syms); i++ {
		s.tryAddBigram(t, text, int32(i-1), int32(i))
	}
	for len(s.queue) > 0 {
		b := s.queue.pop()
		left, right := &s.syms[b.left], &s.syms[b.right]
		// Skip pairs whose symbols have changed since they were queued.
		if left.n == 0 || right.n == 0 || left.n+right.n != b.size {
			continue
		}
		left.n += right.n
		right.n = 0
		left.next = right.next
		if right.next >= 0 {
			s.syms[right.next].prev = b.left
		}
		s.tryAddBigram(t, text, left.prev, b.left)
		s.tryAddBigram(t, text, b.left, left.next)
	}
	for i := int32(0); i != -1; i = s.syms[i].next {
		sym := s.syms[i]
		piece := text[sym.start : sym.start+sym.n]
		if id, ok := t.ids[piece]; ok {
			out = append(out, int(id))
			continue
		}
		// Merged symbols are always pieces, so this is one character
		// missing from the vocabulary: byte fallback.
		for j := 0; j < len(piece); j++ {
			if id := t.bytes[piece[j]]; id >= 0 {
				out = append(out, int(id))
			}
		}
	}
	return out
}

func (s *spmSession) tryAddBigram(t *Tokenizer, text string, left, right int32) {
	if left < 0 || right < 0 {
		return
	}
	l, r := s.syms[left], s.syms[right]
	piece := text[l.start : l.start+l.n+r.n]
	id, ok := t.ids[piece]
	if !ok {
		return
	}
	s.queue.push(bigram{left: left, right: right, score: t.vocab.Score(int(id)), size: l.n + r.n})
}

// utf8Len is llama.cpp's unicode_len_utf8: the length a lead byte announces
// (1 for ASCII and for stray continuation bytes), without validation.
func utf8Len(b byte) int {
	switch {
	case b < 0xC0:
		return 1
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	}
	return 4
}

// bigramQueue is a binary max-heap: highest score first, then leftmost.
type bigramQueue []bigram

func (a bigram) before(b bigram) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (q *bigramQueue) push(b bigram) {
	h := append(*q, b)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	*q = h
}

func (q *bigramQueue) pop() bigram {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].before(h[m]) {
			m = l
		}
		if r < len(h) && h[r].before(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
