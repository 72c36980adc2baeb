package tokenizer

import (
	"unicode/utf8"
)

// Decoder turns token ids into text as they are generated. A token's bytes
// are those of TokenBytes (control tokens print nothing); bytes are held
// back until they form complete UTF-8, so a character split over several
// byte tokens comes out whole. Malformed UTF-8 comes out as U+FFFD once it is
// certain to be malformed, one per maximal ill-formed subsequence (as
// Python's and the Unicode standard's "replace" decoding).
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	// StripLeadingSpace drops the leading space of a piece that follows
	// BOS, as run.c (and SentencePiece's decoder) do; llama.cpp keeps it.
	// A new Decoder counts as having just seen BOS.
	StripLeadingSpace bool

	t       *Tokenizer
	prev    int
	pending []byte
}

// NewDecoder returns a Decoder for t's vocabulary.
func (t *Tokenizer) NewDecoder() *Decoder {
	return &Decoder{t: t, prev: t.vocab.BOS}
}

// Add takes the next token and returns the text that is ready to print.
func (d *Decoder) Add(id int) string {
	b := d.t.TokenBytes(id)
	if d.StripLeadingSpace && d.prev == d.t.vocab.BOS && d.prev >= 0 &&
		len(b) > 0 && b[0] == ' ' && d.t.vocab.Type(id) != Byte {
		b = b[1:]
	}
	d.prev = id
	d.pending = append(d.pending, b...)
	return d.drain(false)
}

// Flush returns what is left at the end of the text: held-back bytes of an
// unfinished character come out as U+FFFD.
func (d *Decoder) Flush() string {
	return d.drain(true)
}

// Reset forgets held-back bytes and counts as having just seen BOS.
func (d *Decoder) Reset() {
	d.pending = d.pending[:0]
	d.prev = d.t.vocab.BOS
}

// drain returns the complete prefix of pending as valid UTF-8 and keeps an
// unfinished character at the end (unless final).
func (d *Decoder) drain(final bool) string {
	p := d.pending
	out := make([]byte, 0, len(p)+8)
	i := 0
	for i < len(p) {
		if p[i] < utf8.RuneSelf {
			out = append(out, p[i])
			i++
			continue
		}
		n, need := validPrefix(p[i:])
		if need > 0 && n == need {
			out = append(out, p[i:i+n]...)
			i += n
			continue
		}
		if i+n == len(p) && !final && need > 0 {
			break // a valid start that may yet be completed
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		i += max(n, 1)
	}
	d.pending = append(d.pending[:0], p[i:]...)
	return string(out)
}

// validPrefix returns how many bytes at the start of p (which starts with a
// non-ASCII byte) form a well-formed prefix of a UTF-8 character, and the
// length that character needs (0 when p[0] cannot start one).
func validPrefix(p []byte) (n, need int) {
	c := p[0]
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 2
	case c == 0xE0:
		need, lo = 3, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 3
	case c == 0xED:
		need, hi = 3, 0x9F
	case c == 0xF0:
		need, lo = 4, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 4
	case c == 0xF4:
		need, hi = 4, 0x8F
	default:
		return 0, 0
	}
	n = 1
	for n < need && n < len(p) {
		b := p[n]
		if n == 1 && (b < lo || b > hi) || n > 1 && (b < 0x80 || b > 0xBF) {
			break
		}
		n++
	}
	return n, need
}
