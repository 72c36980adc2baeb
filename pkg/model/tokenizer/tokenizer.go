package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// spaceRune is SentencePiece's visible space, "▁" (U+2581).
const spaceRune = "\u2581"

// Tokenizer encodes text to token ids and decodes ids to text for one Vocab.
// It is safe for concurrent use.
type Tokenizer struct {
	vocab Vocab
	ids   map[string]int32 // piece → id
	bytes [256]int32       // byte → id of its byte-fallback token, -1 when none

	// specials are the ids llama.cpp splits out of the text before BPE
	// (control, user-defined and unknown tokens), longest piece first.
	specials []int32

	l2cOnce sync.Once
	l2c     *llama2cVocab
}

// New checks v and builds the lookup tables. v's slices are kept, not
// copied: do not change them afterwards.
func New(v Vocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, fmt.Errorf("tokenizer: empty vocabulary")
	}
	if n > 1<<31-1 {
		return nil, fmt.Errorf("tokenizer: %d tokens is too many", n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	for _, s := range []struct {
		name string
		id   int
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}, {"PAD", v.PAD}} {
		if s.id < -1 || s.id >= n {
			return nil, fmt.Errorf("tokenizer: %s id %d outside the vocabulary of %d tokens", s.name, s.id, n)
		}
	}
	t := &Tokenizer{vocab: v, ids: make(map[string]int32, n)}
	for id, piece := range v.Tokens {
		if piece == "" {
			continue // llama.cpp renames these "[EMPTY_n]": nothing can match them
		}
		if prev, dup := t.ids[piece]; dup {
			return nil, fmt.Errorf("tokenizer: duplicate token %q: ids %d and %d", piece, prev, id)
		}
		t.ids[piece] = int32(id)
	}
	for b := range t.bytes {
		t.bytes[b] = t.byteToken(byte(b))
	}
	for id := range v.Tokens {
		switch v.Type(id) {
		case Control, UserDefined, Unknown:
			if v.Tokens[id] != "" {
				t.specials = append(t.specials, int32(id))
			}
		}
	}
	sort.SliceStable(t.specials, func(i, j int) bool {
		return len(v.Tokens[t.specials[i]]) > len(v.Tokens[t.specials[j]])
	})
	return t, nil
}

// byteToken is llama.cpp's byte_to_token for SPM: the "<0xXX>" piece, else
// the one-byte piece, else UNK (llama.cpp throws there).
func (t *Tokenizer) byteToken(b byte) int32 {
	const hex = "0123456789ABCDEF"
	if id, ok := t.ids[string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})]; ok {
		return id
	}
	if id, ok := t.ids[string([]byte{b})]; ok {
		return id
	}
	return int32(t.vocab.UNK)
}

// Vocab returns the vocabulary the tokenizer was built from (not a copy).
func (t *Tokenizer) Vocab() *Vocab { return &t.vocab }

// Len is the number of tokens.
func (t *Tokenizer) Len() int { return len(t.vocab.Tokens) }

// Piece returns the raw piece of token id ("▁the", "<0x0A>", "<s>"), or ""
// when id is out of range.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.vocab.Tokens) {
		return ""
	}
	return t.vocab.Tokens[id]
}

// ID returns the id of a piece, as written in the vocabulary ("▁the").
func (t *Tokenizer) ID(piece string) (int, bool) {
	id, ok := t.ids[piece]
	return int(id), ok
}

// TokenBytes returns what token id stands for in text, as llama.cpp's
// token_to_piece with special=false: "▁" becomes a space, a byte token its
// byte, a user-defined token its piece; control, unknown, unused and
// undefined tokens (and ids out of range) give nothing.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.vocab.Tokens) {
		return nil
	}
	piece := t.vocab.Tokens[id]
	switch t.vocab.Type(id) {
	case Normal:
		return []byte(strings.ReplaceAll(piece, spaceRune, " "))
	case UserDefined:
		return []byte(piece)
	case Byte:
		if b, ok := parseByteToken(piece); ok {
			return []byte{b}
		}
	}
	return nil
}

// parseByteToken reads a "<0xXX>" piece (either case of hex digits, as
// llama.cpp's strtol and run.c accept).
func parseByteToken(p string) (byte, bool) {
	if len(p) != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(p[3])
	lo, ok2 := hexDigit(p[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
