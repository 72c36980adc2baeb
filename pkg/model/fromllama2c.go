package model

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/llmboot/llmboot/pkg/model/llama2c"
	"github.com/llmboot/llmboot/pkg/model/tokenizer"
	"github.com/llmboot/llmboot/pkg/tensor"
)

func openLlama2c(path string, opts Options) (*Model, error) {
	ck, err := llama2c.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	m, err := fromLlama2c(ck, path, opts)
	if err != nil {
		ck.Close()
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	m.closer = ck
	return m, nil
}

// fromLlama2c maps a llama2.c checkpoint onto the model description. The
// format carries no rope base or epsilon: run.c hard-codes 10000 and 1e-5.
func fromLlama2c(ck *llama2c.Checkpoint, path string, opts Options) (*Model, error) {
	h := ck.Config
	c := Config{Arch: "llama", Dim: h.Dim, Hidden: h.Hidden, Layers: h.Layers, Heads: h.Heads, KVHeads: h.KVHeads,
		Vocab: h.Vocab, Context: h.SeqLen, RopeBase: 10000, RMSEps: 1e-5}
	if h.Heads > 0 {
		c.HeadDim = h.Dim / h.Heads
	}
	m := &Model{Format: FormatLlama2c, Config: c, StopOnBOS: true}
	for _, t := range ck.Tensors {
		m.Tensors = append(m.Tensors, Tensor{Name: t.Name, Type: tensor.F32, Shape: t.Shape, Offset: -1, Data: t.Data})
	}

	tokPath := opts.TokenizerPath
	if tokPath == "" {
		tokPath = filepath.Join(filepath.Dir(path), "tokenizer.bin")
		if _, err := os.Stat(tokPath); err != nil {
			return nil, fmt.Errorf("llama2.c checkpoints carry no vocabulary and %s does not exist: name one with --tokenizer FILE", tokPath)
		}
	}
	v, err := llama2c.ReadTokenizer(tokPath, c.Vocab)
	if err != nil {
		return nil, err
	}
	if m.Tokenizer, err = tokenizer.New(v); err != nil {
		return nil, fmt.Errorf("%s: %w", tokPath, err)
	}
	m.TokenizerKind = "llama2.c tokenizer.bin (SentencePiece BPE)"
	return m, nil
}
