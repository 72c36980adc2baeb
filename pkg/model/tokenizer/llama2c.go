package tokenizer

import (
	"strings"
)

// llama2cVocab is the vocabulary as llama2.c's tokenizer.bin writes it, which
// is what run.c's merges compare: "▁" is a plain space, BOS is "\n<s>\n" and
// EOS "\n</s>\n" (llama2.c's tokenizer.py export).
type llama2cVocab struct {
	pieces []string
	ids    map[string]int32
}

func (t *Tokenizer) llama2c() *llama2cVocab {
	t.l2cOnce.Do(func() {
		v := &t.vocab
		l := &llama2cVocab{pieces: make([]string, len(v.Tokens)), ids: make(map[string]int32, len(v.Tokens))}
		for id, p := range v.Tokens {
			switch id {
			case v.BOS:
				p = "\n<s>\n"
			case v.EOS:
				p = "\n</s>\n"
			default:
				p = strings.ReplaceAll(p, spaceRune, " ")
			}
			l.pieces[id] = p
			if _, dup := l.ids[p]; !dup && p != "" {
				l.ids[p] = int32(id)
			}
		}
		t.l2c = l
	})
	return t.l2c
}

// EncodeLlama2c tokenizes text as llama2.c's run.c encode() does: BOS when
// bos, the dummy prefix " " when text is not empty, one token per UTF-8
// character (byte tokens for characters missing from the vocabulary), then
// repeatedly the highest-scoring merge of two adjacent tokens (the first
// position wins ties) over the tokenizer.bin spellings of the pieces, then EOS
// when eos. Special pieces in the text are plain text.
//
// It gives Encode's result on ordinary text. It differs where run.c does:
// merges compare the pieces of byte and special tokens as spelled
// ("<0x0A>", "\n<s>\n"), the dummy prefix is a separate token before merging
// (so it merges with the first word like any other space), and bytes of
// malformed UTF-8 are grouped as run.c groups them. Unlike run.c (C strings),
// a NUL byte does not end the text.
func (t *Tokenizer) EncodeLlama2c(text string, bos, eos bool) []int {
	l := t.llama2c()
	v := &t.vocab
	tokens := make([]int32, 0, len(text)+3)
	if bos && v.BOS >= 0 {
		tokens = append(tokens, int32(v.BOS))
	}
	if text != "" {
		if id, ok := l.ids[" "]; ok {
			tokens = append(tokens, id)
		}
	}
	// One token per code point, grouped as run.c does: a lead (or ASCII)
	// byte starts a new group, continuation bytes join it, at most 4 bytes.
	for i := 0; i < len(text); {
		j := i + 1
		for j < len(text) && text[j]&0xC0 == 0x80 && j-i < 4 {
			j++
		}
		if id, ok := l.ids[text[i:j]]; ok {
			tokens = append(tokens, id)
		} else {
			for k := i; k < j; k++ {
				if id := t.bytes[text[k]]; id >= 0 {
					tokens = append(tokens, id)
				}
			}
		}
		i = j
	}

	// pair[i] is the merge of tokens[i] and tokens[i+1], -1 when there is
	// none; kept up to date so each round only looks up the new pairs.
	pair := make([]int32, len(tokens))
	lookup := func(i int) int32 {
		if i < 0 || i+1 >= len(tokens) {
			return -1
		}
		if id, ok := l.ids[l.pieces[tokens[i]]+l.pieces[tokens[i+1]]]; ok {
			return id
		}
		return -1
	}
	for i := range pair {
		pair[i] = lookup(i)
	}
	for {
		best, bestIdx := float32(-1e10), -1
		for i := 0; i+1 < len(tokens); i++ {
			if id := pair[i]; id >= 0 && v.Score(int(id)) > best {
				best, bestIdx = v.Score(int(id)), i
			}
		}
		if bestIdx < 0 {
			break
		}
		tokens[bestIdx] = pair[bestIdx]
		tokens = append(tokens[:bestIdx+1], tokens[bestIdx+2:]...)
		pair = append(pair[:bestIdx+1], pair[bestIdx+2:]...)
		pair[bestIdx] = lookup(bestIdx)
		if bestIdx > 0 {
			pair[bestIdx-1] = lookup(bestIdx - 1)
		}
	}
	if eos && v.EOS >= 0 {
		tokens = append(tokens, int32(v.EOS))
	}
	out := make([]int, len(tokens))
	for i, id := range tokens {
		out[i] = int(id)
	}
	return out
}
