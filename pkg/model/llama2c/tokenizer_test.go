package llama2c

import (
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
)

// TestTokenizerMatchesGGUF: tokenizer.bin, converted, is the vocabulary of
// the GGUF files: same pieces, scores and token types.
func TestTokenizerMatchesGGUF(t *testing.T) {
	for _, c := range []struct {
		bin, gguf string
		n         int
	}{
		{"models/llama2c/tok512.bin", "models/gguf/stories260K.gguf", 512},
		{"models/llama2c/tokenizer.bin", "models/vocab/ggml-vocab-llama-spm.gguf", 32000},
	} {
		t.Run(c.bin, func(t *testing.T) {
			v, err := ReadTokenizer(shareddata.Path(t, c.bin), c.n)
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(shareddata.Path(t, c.gguf))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			toks, _ := f.Strings("tokenizer.ggml.tokens")
			scores, _ := f.Float32s("tokenizer.ggml.scores")
			types, _ := f.Int32s("tokenizer.ggml.token_type")
			if len(toks) != c.n || len(v.Tokens) != c.n || len(v.Scores) != c.n || len(v.Types) != c.n {
				t.Fatalf("sizes: gguf %d, bin %d/%d/%d", len(toks), len(v.Tokens), len(v.Scores), len(v.Types))
			}
			bad := 0
			for i := range toks {
				if v.Tokens[i] != toks[i] || math.Float32bits(v.Scores[i]) != math.Float32bits(scores[i]) || int32(v.Types[i]) != types[i] {
					if bad++; bad < 5 {
						t.Errorf("token %d: bin %q %g %v, gguf %q %g %d", i, v.Tokens[i], v.Scores[i], v.Types[i], toks[i], scores[i], types[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d tokens differ", bad)
			}
			if v.BOS != 1 || v.EOS != 2 || v.UNK != 0 || v.PAD != -1 || !v.AddBOS || v.AddEOS || !v.AddSpacePrefix {
				t.Errorf("specials %+v", v)
			}
			if _, err := tokenizer.New(v); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestTokenizerErrors(t *testing.T) {
	b, err := os.ReadFile(shareddata.Path(t, "models/llama2c/tok512.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation fails.
	for n := 0; n < len(b); n++ {
		if _, err := ParseTokenizer(b[:n], 512); err == nil || !strings.HasPrefix(err.Error(), "llama2c: tokenizer: ") {
			t.Fatalf("truncated to %d bytes: err = %v", n, err)
		}
	}
	withLen := func(l int32) []byte {
		c := append([]byte{}, b...)
		binary.LittleEndian.PutUint32(c[4+4:], uint32(l)) // token 0's length
		return c
	}
	for _, c := range []struct {
		name, want string
		b          []byte
		n          int
	}{
		{"vocab 0", "must be positive", b, 0},
		{"vocab negative", "must be positive", b, -1},
		{"vocab too big for the file", "cannot hold", b, 1 << 30},
		{"vocab smaller", "bytes left", b, 511},
		{"vocab larger", "file ends", b, 513},
		{"negative length", "length -1", withLen(-1), 512},
		{"huge length", "length 2147483647", withLen(math.MaxInt32), 512},
		{"length past the end", "exceeds", withLen(int32(len(b))), 512},
		{"length shifts the rest", "token", withLen(6), 512},
	} {
		_, err := ParseTokenizer(c.b, c.n)
		if err == nil || !strings.HasPrefix(err.Error(), "llama2c: tokenizer: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := ReadTokenizer(t.TempDir()+"/none.bin", 512); err == nil {
		t.Error("missing file accepted")
	}
}

// tokBin builds a tokenizer.bin from pieces (llama2.c spelling).
func tokBin(pieces ...string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 8)
	for i, p := range pieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(-float32(i)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// FuzzParseTokenizer: any bytes parse or fail cleanly; a parsed vocabulary
// has vocabSize tokens, and when New accepts it, encoding works.
func FuzzParseTokenizer(f *testing.F) {
	f.Add(tokBin("<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " ", "a", " a", "b", "ab"), 9)
	f.Add(tokBin("<unk>", "\n<s>\n"), 2)
	f.Add(tokBin("x"), 1)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		v, err := ParseTokenizer(b, n)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "llama2c: tokenizer: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if len(v.Tokens) != n || len(v.Scores) != n || len(v.Types) != n {
			t.Fatalf("%d tokens for vocab size %d", len(v.Tokens), n)
		}
		tok, err := tokenizer.New(v)
		if err != nil {
			return // duplicate pieces: a vocabulary New refuses
		}
		for _, text := range []string{"ab a", "\xC3A<s>", ""} {
			for _, ids := range [][]int{tok.Encode(text, true, true), tok.EncodeLlama2c(text, true, true)} {
				for _, id := range ids {
					if id < 0 || id >= n {
						t.Fatalf("id %d outside %d tokens", id, n)
					}
				}
			}
		}
	})
}
