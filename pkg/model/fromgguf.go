package model

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/model/llama2c"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
)

func openGGUF(path string, opts Options) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	m, err := fromGGUF(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	m.closer = f
	m.mapped = f.Mapped()
	m.FileSize = int64(f.End())
	return m, nil
}

// fromGGUF maps a parsed GGUF file onto the model description.
func fromGGUF(f *gguf.File, opts Options) (*Model, error) {
	arch, ok := f.String("general.architecture")
	if !ok {
		return nil, fmt.Errorf("general.architecture is missing")
	}
	supported := false
	for _, a := range SupportedArchitectures {
		supported = supported || a == arch
	}
	if !supported {
		return nil, unsupportedArch(arch)
	}
	key := func(k string) string { return arch + "." + k }
	need := func(k string) (int, error) {
		v, ok := f.Uint(key(k))
		if !ok {
			return 0, fmt.Errorf("metadata %s is missing or not an unsigned integer", key(k))
		}
		if v > 1<<31 {
			return 0, fmt.Errorf("metadata %s = %d is out of range", key(k), v)
		}
		return int(v), nil
	}
	c := Config{Arch: arch, RopeBase: 10000, RMSEps: 1e-5}
	var err error
	for _, p := range []struct {
		k   string
		dst *int
	}{
		{"embedding_length", &c.Dim}, {"feed_forward_length", &c.Hidden}, {"block_count", &c.Layers},
		{"attention.head_count", &c.Heads}, {"context_length", &c.Context},
	} {
		if *p.dst, err = need(p.k); err != nil {
			return nil, err
		}
	}
	c.KVHeads = c.Heads
	if v, ok := f.Uint(key("attention.head_count_kv")); ok && v > 0 && v <= 1<<20 {
		c.KVHeads = int(v)
	}
	if c.Heads > 0 {
		c.HeadDim = c.Dim / c.Heads
	}
	if v, ok := f.Uint(key("attention.key_length")); ok && v > 0 && v <= 1<<20 {
		c.HeadDim = int(v)
	}
	if v, ok := f.Uint(key("rope.dimension_count")); ok && int(v) != c.HeadDim {
		return nil, fmt.Errorf("metadata %s = %d: partial rotary embeddings are not supported (head dimension %d)", key("rope.dimension_count"), v, c.HeadDim)
	}
	if v, ok := f.Float(key("rope.freq_base")); ok {
		c.RopeBase = float32(v)
	}
	if v, ok := f.Float(key("attention.layer_norm_rms_epsilon")); ok {
		c.RMSEps = float32(v)
	}
	if v, ok := f.String(key("rope.scaling.type")); ok && v != "none" && v != "" {
		return nil, fmt.Errorf("metadata %s = %q: rope scaling is not supported", key("rope.scaling.type"), v)
	}

	m := &Model{Format: FormatGGUF, Config: c}
	for _, ti := range f.Tensors {
		// A header-only parse (a model read through a network or device
		// source) has offsets but no bytes: loaders read them.
		var data []byte
		if f.Data() != nil {
			var err error
			if data, err = f.TensorData(ti.Name); err != nil {
				return nil, err
			}
		}
		shape := make([]int, len(ti.Shape))
		for i, d := range ti.Shape {
			shape[i] = int(d)
		}
		m.Tensors = append(m.Tensors, Tensor{Name: ti.Name, Type: ti.Type, Shape: shape,
			Offset: int64(f.DataOffset + ti.Offset), Data: data})
	}
	if te, ok := f.Tensor(TokenEmbd); ok && len(te.Shape) == 2 {
		m.Config.Vocab = int(te.Shape[1])
	}

	if opts.TokenizerPath != "" {
		v, err := llama2c.ReadTokenizer(opts.TokenizerPath, m.Config.Vocab)
		if err != nil {
			return nil, err
		}
		if m.Tokenizer, err = tokenizer.New(v); err != nil {
			return nil, fmt.Errorf("%s: %w", opts.TokenizerPath, err)
		}
		m.TokenizerKind = "llama2.c tokenizer.bin (SentencePiece BPE)"
		return m, nil
	}
	kind, _ := f.String("tokenizer.ggml.model")
	switch kind {
	case "llama":
		v, err := ggufVocab(f)
		if err != nil {
			return nil, err
		}
		if len(v.Tokens) != m.Config.Vocab {
			return nil, fmt.Errorf("tokenizer has %d tokens, token_embd.weight %d rows", len(v.Tokens), m.Config.Vocab)
		}
		if m.Tokenizer, err = tokenizer.New(v); err != nil {
			return nil, err
		}
		m.TokenizerKind = "llama (SentencePiece BPE)"
	case "":
		m.TokenizerKind = "none"
	default:
		return nil, fmt.Errorf("tokenizer.ggml.model %q is not supported (supported: llama)", kind)
	}
	return m, nil
}

// ggufVocab reads the tokenizer.ggml.* metadata of a SentencePiece ("llama")
// vocabulary.
func ggufVocab(f *gguf.File) (tokenizer.Vocab, error) {
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok {
		return tokenizer.Vocab{}, fmt.Errorf("tokenizer.ggml.tokens is missing or not an array of strings")
	}
	v := tokenizer.Vocab{Tokens: tokens, BOS: -1, EOS: -1, UNK: -1, PAD: -1, AddBOS: true, AddSpacePrefix: true}
	if s, ok := f.Float32s("tokenizer.ggml.scores"); ok {
		if len(s) != len(tokens) {
			return v, fmt.Errorf("tokenizer.ggml.scores has %d entries for %d tokens", len(s), len(tokens))
		}
		v.Scores = s
	} else {
		v.Scores = make([]float32, len(tokens))
	}
	v.Types = make([]tokenizer.TokenType, len(tokens))
	if t, ok := f.Int32s("tokenizer.ggml.token_type"); ok {
		if len(t) != len(tokens) {
			return v, fmt.Errorf("tokenizer.ggml.token_type has %d entries for %d tokens", len(t), len(tokens))
		}
		for i, x := range t {
			v.Types[i] = tokenizer.TokenType(x)
		}
	} else {
		for i := range v.Types {
			v.Types[i] = tokenizer.Normal
		}
	}
	// SentencePiece's defaults when the file does not say: <unk> 0, <s> 1, </s> 2.
	ids := []struct {
		key string
		dst *int
		def int
	}{
		{"tokenizer.ggml.bos_token_id", &v.BOS, 1}, {"tokenizer.ggml.eos_token_id", &v.EOS, 2},
		{"tokenizer.ggml.unknown_token_id", &v.UNK, 0}, {"tokenizer.ggml.padding_token_id", &v.PAD, -1},
	}
	for _, id := range ids {
		*id.dst = id.def
		if x, ok := f.Uint(id.key); ok {
			// Out of range (often 0xFFFFFFFF, llama.cpp's "none") means absent.
			*id.dst = -1
			if x < uint64(len(tokens)) {
				*id.dst = int(x)
			}
		}
		if *id.dst >= len(tokens) {
			*id.dst = -1
		}
	}
	if b, ok := f.Bool("tokenizer.ggml.add_bos_token"); ok {
		v.AddBOS = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_eos_token"); ok {
		v.AddEOS = b
	}
	if b, ok := f.Bool("tokenizer.ggml.add_space_prefix"); ok {
		v.AddSpacePrefix = b
	}
	return v, nil
}
