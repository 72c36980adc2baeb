// Package tokenizer is the SentencePiece-style BPE tokenizer of LLaMA models,
// as llama.cpp's "llama" (SPM) tokenizer and llama2.c's run.c implement it.
//
// A Vocab holds the pieces, scores and token types (from a GGUF file or a
// llama2.c tokenizer.bin); New builds a Tokenizer from it. Encode follows
// llama.cpp's llama_tokenize, EncodeLlama2c follows run.c's encode(), and a
// Decoder turns generated ids back into printable UTF-8 text.
package tokenizer

import (
	"fmt"
)

// TokenType is a token's kind, numbered as GGUF's tokenizer.ggml.token_type.
type TokenType int32

// The token types. Undefined (0) is what llama.cpp calls a type it does not
// know; such tokens are matched like others but never printed.
const (
	Undefined   TokenType = 0
	Normal      TokenType = 1
	Unknown     TokenType = 2
	Control     TokenType = 3
	UserDefined TokenType = 4
	Unused      TokenType = 5
	Byte        TokenType = 6
)

// String names t as llama.cpp's logs do.
func (t TokenType) String() string {
	switch t {
	case Undefined:
		return "undefined"
	case Normal:
		return "normal"
	case Unknown:
		return "unknown"
	case Control:
		return "control"
	case UserDefined:
		return "user-defined"
	case Unused:
		return "unused"
	case Byte:
		return "byte"
	}
	return fmt.Sprintf("type(%d)", int32(t))
}

// Vocab is a SentencePiece vocabulary: piece, score and type per token id,
// and the special ids. Space is the piece character "▁" (U+2581), as in GGUF.
type Vocab struct {
	Tokens []string
	Scores []float32   // nil: all 0
	Types  []TokenType // nil: all Normal

	BOS, EOS, UNK, PAD int // -1 when absent

	AddBOS, AddEOS bool // what Encode adds when asked for special tokens
	AddSpacePrefix bool // SentencePiece's dummy prefix (GGUF tokenizer.ggml.add_space_prefix, default true)
}

// Type returns the type of token id (Normal when Types is nil, Undefined
// when id is out of range).
func (v *Vocab) Type(id int) TokenType {
	if id < 0 || id >= len(v.Tokens) {
		return Undefined
	}
	if v.Types == nil {
		return Normal
	}
	return v.Types[id]
}

// Score returns the merge score of token id (0 when Scores is nil or id is
// out of range).
func (v *Vocab) Score(id int) float32 {
	if v.Scores == nil || id < 0 || id >= len(v.Scores) {
		return 0
	}
	return v.Scores[id]
}

// GGUFArrays holds the tokenizer.ggml.* metadata of a GGUF file as the caller
// read it. Nil means the key is absent; FromGGUFArrays then applies
// llama.cpp's defaults for a "llama" (SentencePiece) tokenizer.
type GGUFArrays struct {
	Model     string    // tokenizer.ggml.model: "llama", or "" when absent
	Tokens    []string  // tokenizer.ggml.tokens (required)
	Scores    []float32 // tokenizer.ggml.scores: nil gives 0 for every token
	TokenType []int32   // tokenizer.ggml.token_type: nil gives Normal for every token

	// tokenizer.ggml.bos_token_id, eos_token_id, unknown_token_id,
	// padding_token_id. Defaults 1, 2, 0 and none; an id outside the
	// vocabulary keeps the default, as llama.cpp does ("bad special token").
	BOS, EOS, UNK, PAD *uint64

	// tokenizer.ggml.add_bos_token, add_eos_token, add_space_prefix.
	// Defaults true, false, true.
	AddBOS, AddEOS, AddSpacePrefix *bool
}

// FromGGUFArrays builds a Vocab from a GGUF file's tokenizer metadata, as
// llama.cpp's llama_vocab::load does for a SentencePiece vocabulary. Longer
// score or type arrays are cut to the token count; shorter ones are errors.
func FromGGUFArrays(a GGUFArrays) (Vocab, error) {
	if a.Model != "" && a.Model != "llama" {
		return Vocab{}, fmt.Errorf("tokenizer: tokenizer.ggml.model %q is not a SentencePiece (\"llama\") vocabulary", a.Model)
	}
	n := len(a.Tokens)
	if n == 0 {
		return Vocab{}, fmt.Errorf("tokenizer: tokenizer.ggml.tokens is empty or absent")
	}
	v := Vocab{
		Tokens: a.Tokens,
		BOS:    1, EOS: 2, UNK: 0, PAD: -1,
		AddBOS: true, AddEOS: false, AddSpacePrefix: true,
	}
	if a.Scores != nil {
		if len(a.Scores) < n {
			return Vocab{}, fmt.Errorf("tokenizer: %d scores for %d tokens", len(a.Scores), n)
		}
		v.Scores = a.Scores[:n:n]
	}
	if a.TokenType != nil {
		if len(a.TokenType) < n {
			return Vocab{}, fmt.Errorf("tokenizer: %d token types for %d tokens", len(a.TokenType), n)
		}
		v.Types = make([]TokenType, n)
		for i, t := range a.TokenType[:n] {
			if t < int32(Normal) || t > int32(Byte) {
				t = int32(Undefined)
			}
			v.Types[i] = TokenType(t)
		}
	}
	for _, s := range []struct {
		id  *int
		key *uint64
	}{{&v.BOS, a.BOS}, {&v.EOS, a.EOS}, {&v.UNK, a.UNK}, {&v.PAD, a.PAD}} {
		if s.key != nil && *s.key < uint64(n) {
			*s.id = int(*s.key)
		}
		if *s.id >= n {
			*s.id = -1
		}
	}
	if a.AddBOS != nil {
		v.AddBOS = *a.AddBOS
	}
	if a.AddEOS != nil {
		v.AddEOS = *a.AddEOS
	}
	if a.AddSpacePrefix != nil {
		v.AddSpacePrefix = *a.AddSpacePrefix
	}
	return v, nil
}
