package tokenizer_test

import (
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/model/llama2c"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
)

// ggufVocab reads the vocabulary of a GGUF file under shared/ (rel) through
// FromGGUFArrays, as the engine does.
func ggufVocab(tb testing.TB, rel string) tokenizer.Vocab {
	tb.Helper()
	f, err := gguf.Open(shareddata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	a := tokenizer.GGUFArrays{}
	a.Model, _ = f.String("tokenizer.ggml.model")
	var ok bool
	if a.Tokens, ok = f.Strings("tokenizer.ggml.tokens"); !ok {
		tb.Fatalf("%s: no tokenizer.ggml.tokens", rel)
	}
	a.Scores, _ = f.Float32s("tokenizer.ggml.scores")
	a.TokenType, _ = f.Int32s("tokenizer.ggml.token_type")
	u := func(key string) *uint64 {
		if v, ok := f.Uint(key); ok {
			return &v
		}
		return nil
	}
	b := func(key string) *bool {
		if v, ok := f.Bool(key); ok {
			return &v
		}
		return nil
	}
	a.BOS, a.EOS = u("tokenizer.ggml.bos_token_id"), u("tokenizer.ggml.eos_token_id")
	a.UNK, a.PAD = u("tokenizer.ggml.unknown_token_id"), u("tokenizer.ggml.padding_token_id")
	a.AddBOS, a.AddEOS = b("tokenizer.ggml.add_bos_token"), b("tokenizer.ggml.add_eos_token")
	a.AddSpacePrefix = b("tokenizer.ggml.add_space_prefix")
	v, err := tokenizer.FromGGUFArrays(a)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func ggufTokenizer(tb testing.TB, rel string) *tokenizer.Tokenizer {
	tb.Helper()
	tok, err := tokenizer.New(ggufVocab(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func binTokenizer(tb testing.TB, rel string, n int) *tokenizer.Tokenizer {
	tb.Helper()
	v, err := llama2c.ReadTokenizer(shareddata.Path(tb, rel), n)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// spm32k is the Llama 2 vocabulary (in testdata), loaded once for fuzzing
// and benchmarks.
var spm32k = struct {
	once sync.Once
	tok  *tokenizer.Tokenizer
}{}

func llamaSPM(tb testing.TB) *tokenizer.Tokenizer {
	tb.Helper()
	shareddata.Path(tb, "models/vocab/ggml-vocab-llama-spm.gguf") // skip when absent
	spm32k.once.Do(func() { spm32k.tok = ggufTokenizer(tb, "models/vocab/ggml-vocab-llama-spm.gguf") })
	if spm32k.tok == nil {
		tb.Fatal("loading the llama-spm vocabulary failed earlier")
	}
	return spm32k.tok
}

func readJSON(tb testing.TB, rel string, v any) {
	tb.Helper()
	b, err := os.ReadFile(shareddata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
}

func decodeAll(tok *tokenizer.Tokenizer, strip bool, ids []int) string {
	d := tok.NewDecoder()
	d.StripLeadingSpace = strip
	var s string
	for _, id := range ids {
		s += d.Add(id)
	}
	return s + d.Flush()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
