package model

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

func TestOpenFormats(t *testing.T) {
	tok512 := "models/llama2c/tok512.bin"
	for _, c := range []struct {
		file, tokenizer string
		format          Format
		cfg             Config
		untied          bool
		types           map[tensor.Type]int
	}{
		{"models/gguf/stories260K.gguf", "", FormatGGUF,
			Config{Arch: "llama", Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, Vocab: 512, Context: 2048, RopeBase: 10000, RMSEps: 1e-5},
			true, map[tensor.Type]int{tensor.F32: 48}},
		{"models/llama2c/stories260K.bin", tok512, FormatLlama2c,
			Config{Arch: "llama", Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, HeadDim: 8, Vocab: 512, Context: 512, RopeBase: 10000, RMSEps: 1e-5},
			false, map[tensor.Type]int{tensor.F32: 47}},
		{"models/tiny256/tiny256-f32.llama2c.bin", tok512, FormatLlama2c,
			Config{Arch: "llama", Dim: 256, Hidden: 768, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 32, Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5},
			true, map[tensor.Type]int{tensor.F32: 21}},
		{"models/tiny256/tiny256-Q4_K_M.gguf", "", FormatGGUF,
			Config{Arch: "llama", Dim: 256, Hidden: 768, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 32, Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5},
			true, map[tensor.Type]int{tensor.F32: 5, tensor.Q4_K: 13, tensor.Q6_K: 3}},
	} {
		t.Run(c.file, func(t *testing.T) {
			opts := Options{}
			if c.tokenizer != "" {
				opts.TokenizerPath = shareddata.Path(t, c.tokenizer)
			}
			m, err := Open(shareddata.Path(t, c.file), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Format != c.format || m.Config != c.cfg {
				t.Errorf("format %s config %+v\nwant %s %+v", m.Format, m.Config, c.format, c.cfg)
			}
			if _, ok := m.Tensor(Output); ok != c.untied {
				t.Errorf("separate output.weight = %v, want %v", ok, c.untied)
			}
			got := map[tensor.Type]int{}
			for _, tc := range m.TypeCounts() {
				got[tc.Type] = tc.Count
			}
			for typ, n := range c.types {
				if got[typ] != n {
					t.Errorf("%d %s tensors, want %d (all: %v)", got[typ], typ, n, got)
				}
			}
			if m.Tokenizer == nil || m.Tokenizer.Len() != 512 {
				t.Fatal("no 512-token tokenizer")
			}
			if m.StopOnBOS != (c.format == FormatLlama2c) {
				t.Errorf("StopOnBOS = %v", m.StopOnBOS)
			}
			emb, _ := m.Tensor(TokenEmbd)
			if emb.Rows() != 512 || emb.Cols() != c.cfg.Dim || len(emb.Data) == 0 {
				t.Errorf("token_embd %v, %d bytes", emb.Shape, len(emb.Data))
			}
		})
	}
}

// TestRefusals: files that parse but describe something the engine cannot
// run are refused at load, naming the key or tensor.
func TestRefusals(t *testing.T) {
	src := shareddata.Path(t, "models/gguf/stories260K.gguf")
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, c := range []struct {
		name   string
		edit   func(key string, v any) (string, any, bool) // new key, value, keep
		tensor func(name string, shape []uint64) []uint64
		want   string
	}{
		{name: "architecture", edit: func(k string, v any) (string, any, bool) {
			if k == "general.architecture" {
				return k, "gpt2", true
			}
			return k, v, true
		}, want: `architecture "gpt2" is not supported (supported: llama)`},
		{name: "missing key", edit: func(k string, v any) (string, any, bool) {
			return k, v, k != "llama.block_count"
		}, want: "llama.block_count is missing"},
		{name: "heads", edit: func(k string, v any) (string, any, bool) {
			if k == "llama.attention.head_count_kv" {
				return k, uint32(3), true
			}
			return k, v, true
		}, want: "8 heads is not a multiple of 3 kv heads"},
		{name: "missing tensor", tensor: func(name string, shape []uint64) []uint64 {
			if name == "blk.4.ffn_up.weight" {
				return nil
			}
			return shape
		}, want: `tensor "blk.4.ffn_up.weight" is missing`},
		{name: "bad shape", tensor: func(name string, shape []uint64) []uint64 {
			if name == "blk.2.attn_k.weight" {
				return []uint64{64, 16}
			}
			return shape
		}, want: `tensor "blk.2.attn_k.weight" has shape [64 16], want [64 32]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := gguf.NewWriter()
			for _, kv := range f.KV {
				k, v, keep := kv.Key, kv.Value, true
				if c.edit != nil {
					k, v, keep = c.edit(k, v)
				}
				if keep {
					if err := w.AddKV(k, v); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, ti := range f.Tensors {
				shape := ti.Shape
				data, _ := f.TensorData(ti.Name)
				if c.tensor != nil {
					if shape = c.tensor(ti.Name, ti.Shape); shape == nil {
						continue
					}
					n := uint64(4) // F32 bytes
					for _, d := range shape {
						n *= d
					}
					data = data[:n]
				}
				if err := w.AddTensor(ti.Name, ti.Type, shape, data); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if _, err := w.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			path := t.TempDir() + "/m.gguf"
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
