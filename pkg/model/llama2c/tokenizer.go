package llama2c

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/llmboot/llmboot/pkg/model/tokenizer"
)

// ReadTokenizer reads a llama2.c tokenizer.bin holding vocabSize tokens.
func ReadTokenizer(path string, vocabSize int) (tokenizer.Vocab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: %w", err)
	}
	v, err := ParseTokenizer(b, vocabSize)
	if err != nil {
		return v, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ParseTokenizer reads a llama2.c tokenizer.bin: uint32 max_token_length,
// then per token float32 score, int32 length and the piece's bytes. The file
// does not record its token count, so the model's vocabulary size is needed;
// bytes left over after vocabSize tokens are an error (a size mismatch).
//
// The pieces are converted back to SentencePiece spelling, as in a GGUF
// vocabulary: spaces become "▁", BOS ("\n<s>\n" in the file) becomes "<s>" and
// EOS ("\n</s>\n") "</s>". Types follow llama2.c's layout: 0 is <unk>
// (Unknown), 1 BOS and 2 EOS (Control), "<0xXX>" pieces Byte, the rest Normal.
func ParseTokenizer(b []byte, vocabSize int) (tokenizer.Vocab, error) {
	if vocabSize <= 0 {
		return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: vocabulary size %d must be positive", vocabSize)
	}
	if len(b) < 4 {
		return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: %d bytes, too short for the header", len(b))
	}
	// b[0:4] is max_token_length, which run.c sizes a buffer by; nothing
	// here needs it.
	// Every token takes at least 8 bytes: refuse sizes the file cannot hold
	// before allocating for them.
	if rest := (len(b) - 4) / 8; vocabSize > rest {
		return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: %d bytes cannot hold %d tokens", len(b), vocabSize)
	}
	v := tokenizer.Vocab{
		Tokens: make([]string, vocabSize),
		Scores: make([]float32, vocabSize),
		Types:  make([]tokenizer.TokenType, vocabSize),
		BOS:    1, EOS: 2, UNK: 0, PAD: -1,
		AddBOS: true, AddSpacePrefix: true,
	}
	off := 4
	for i := 0; i < vocabSize; i++ {
		if len(b)-off < 8 {
			return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: token %d at offset %d: file ends", i, off)
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(b[off:]))
		n := int32(binary.LittleEndian.Uint32(b[off+4:]))
		off += 8
		if n < 0 || int64(n) > int64(len(b)-off) {
			return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: token %d at offset %d: length %d exceeds the %d bytes left", i, off-4, n, len(b)-off)
		}
		piece := string(b[off : off+int(n)])
		off += int(n)
		v.Scores[i] = score
		v.Tokens[i], v.Types[i] = fromLlama2cPiece(i, piece)
	}
	if off != len(b) {
		return tokenizer.Vocab{}, fmt.Errorf("llama2c: tokenizer: %d bytes left after %d tokens (vocabulary size mismatch?)", len(b)-off, vocabSize)
	}
	if vocabSize <= 2 {
		v.EOS = -1
	}
	if vocabSize <= 1 {
		v.BOS = -1
	}
	return v, nil
}

// fromLlama2cPiece undoes llama2.c's export of SentencePiece pieces and infers
// the token type from the position and spelling.
func fromLlama2cPiece(id int, p string) (string, tokenizer.TokenType) {
	switch {
	case id == 0:
		return p, tokenizer.Unknown
	case id == 1:
		if p == "\n<s>\n" {
			p = "<s>"
		}
		return p, tokenizer.Control
	case id == 2:
		if p == "\n</s>\n" {
			p = "</s>"
		}
		return p, tokenizer.Control
	case isByteToken(p):
		return p, tokenizer.Byte
	}
	return strings.ReplaceAll(p, " ", "\u2581"), tokenizer.Normal
}

func isByteToken(p string) bool {
	if len(p) != 6 || !strings.HasPrefix(p, "<0x") || p[5] != '>' {
		return false
	}
	for _, c := range []byte(p[3:5]) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
