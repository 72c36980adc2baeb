package synth

import (
	"fmt"
	"strings"

	"github.com/llmboot/llmboot/pkg/model/gguf"
)

// Vocab is the tokenizer metadata a synthetic model carries: the
// tokenizer.ggml.* entries of a GGUF file, written as they are.
type Vocab struct {
	Source string    // where it came from, for messages
	Size   int       // number of tokens
	KV     []gguf.KV // tokenizer.* entries
}

// VocabFrom copies the tokenizer.* metadata of a GGUF file (a vocabulary-only
// file such as llama.cpp's ggml-vocab-llama-spm.gguf, or any model).
func VocabFrom(path string) (*Vocab, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("synth: vocabulary: %w", err)
	}
	defer f.Close()
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) == 0 {
		return nil, fmt.Errorf("synth: vocabulary %s: no tokenizer.ggml.tokens", path)
	}
	v := &Vocab{Source: path, Size: len(tokens)}
	for _, kv := range f.KV {
		if strings.HasPrefix(kv.Key, "tokenizer.") {
			v.KV = append(v.KV, kv)
		}
	}
	return v, nil
}

// SyntheticVocab makes a SentencePiece-style vocabulary of n tokens (n ≥ 3):
// <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> as far as they fit,
// then placeholder pieces "▁tok<i>". Text encodes into byte tokens; it is
// enough for the tokenizer to load and for prompts to run.
func SyntheticVocab(n int) (*Vocab, error) {
	if n < 3 {
		return nil, fmt.Errorf("synth: a vocabulary needs at least 3 tokens (<unk>, <s>, </s>), not %d", n)
	}
	const (
		normal  = 1
		unknown = 2
		control = 3
		byteTok = 6
	)
	tokens := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	copy(tokens, []string{"<unk>", "<s>", "</s>"})
	copy(types, []int32{unknown, control, control})
	for i := 3; i < n; i++ {
		switch b := i - 3; {
		case b < 256:
			tokens[i], types[i] = fmt.Sprintf("<0x%02X>", b), byteTok
		default:
			tokens[i], types[i] = fmt.Sprintf("▁tok%d", i), normal
			scores[i] = -float32(i)
		}
	}
	kv := []gguf.KV{
		{Key: "tokenizer.ggml.model", Type: gguf.String, Value: "llama"},
		{Key: "tokenizer.ggml.tokens", Type: gguf.TypeArray, Value: gguf.Array{Elem: gguf.String, Values: tokens}},
		{Key: "tokenizer.ggml.scores", Type: gguf.TypeArray, Value: gguf.Array{Elem: gguf.Float32, Values: scores}},
		{Key: "tokenizer.ggml.token_type", Type: gguf.TypeArray, Value: gguf.Array{Elem: gguf.Int32, Values: types}},
		{Key: "tokenizer.ggml.bos_token_id", Type: gguf.Uint32, Value: uint32(1)},
		{Key: "tokenizer.ggml.eos_token_id", Type: gguf.Uint32, Value: uint32(2)},
		{Key: "tokenizer.ggml.unknown_token_id", Type: gguf.Uint32, Value: uint32(0)},
	}
	return &Vocab{Source: fmt.Sprintf("synthetic (%d tokens)", n), Size: n, KV: kv}, nil
}
