package llama2c

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestOpenMatchesGGUF: the llama2.c checkpoints hold, byte for byte, the
// tensors of the GGUF files converted from the same weights.
func TestOpenMatchesGGUF(t *testing.T) {
	for _, c := range []struct {
		bin, gguf string
		want      Config
	}{
		{"models/llama2c/stories260K.bin", "models/gguf/stories260K.gguf",
			Config{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, Vocab: 512, SeqLen: 512, SharedClassifier: true}},
		{"models/tiny256/tiny256-f32.llama2c.bin", "models/tiny256/tiny256-F32.gguf",
			Config{Dim: 256, Hidden: 768, Layers: 2, Heads: 8, KVHeads: 4, Vocab: 512, SeqLen: 256, SharedClassifier: false}},
	} {
		t.Run(c.bin, func(t *testing.T) {
			ck, err := Open(shareddata.Path(t, c.bin))
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			if ck.Config != c.want {
				t.Errorf("config %+v, want %+v", ck.Config, c.want)
			}
			f, err := gguf.Open(shareddata.Path(t, c.gguf))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			matched := 0
			for _, ti := range f.Tensors {
				name := ti.Name
				if name == "output.weight" && ck.Config.SharedClassifier {
					name = "token_embd.weight" // llama.cpp stores the tied classifier again
				}
				ct, ok := ck.Tensor(name)
				if !ok {
					t.Errorf("%s: missing from the checkpoint", ti.Name)
					continue
				}
				if ti.Type != tensor.F32 || len(ti.Shape) != len(ct.Shape) {
					t.Errorf("%s: GGUF %v %v, checkpoint %v", ti.Name, ti.Type, ti.Shape, ct.Shape)
					continue
				}
				for i, d := range ti.Shape {
					if int(d) != ct.Shape[i] {
						t.Errorf("%s: shape GGUF %v, checkpoint %v", ti.Name, ti.Shape, ct.Shape)
						break
					}
				}
				data, err := f.TensorData(ti.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, ct.Data) {
					t.Errorf("%s: bytes differ", ti.Name)
				}
				matched++
			}
			wantN := 2 + 9*ck.Config.Layers + 1 // embd, output_norm, 9 per layer, output
			if matched != wantN || len(f.Tensors) != wantN {
				t.Errorf("compared %d of %d GGUF tensors, want %d", matched, len(f.Tensors), wantN)
			}
			if n := len(ck.Tensors); ck.Config.SharedClassifier && n != wantN-1 || !ck.Config.SharedClassifier && n != wantN {
				t.Errorf("checkpoint has %d tensors", n)
			}
		})
	}
}

func tensorMap(c *Checkpoint) map[string][]float32 {
	m := map[string][]float32{}
	for _, t := range c.Tensors {
		m[t.Name] = t.Float32s()
	}
	return m
}

func openT(tb testing.TB, rel string) (*Checkpoint, []byte) {
	tb.Helper()
	b, err := os.ReadFile(shareddata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := Parse(b)
	if err != nil {
		tb.Fatal(err)
	}
	return c, b
}

// TestWriteLegacyIdentical: writing stories260K's tensors as a legacy file
// reproduces stories260K.bin exactly, RoPE tables included.
func TestWriteLegacyIdentical(t *testing.T) {
	c, orig := openT(t, "models/llama2c/stories260K.bin")
	var buf bytes.Buffer
	if err := WriteLegacy(&buf, c.Config, tensorMap(c)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Fatalf("rewritten file differs (%d vs %d bytes)", buf.Len(), len(orig))
	}
}

// TestWriteRoundTrip writes every version, shared and separate classifier,
// and reads it back: fp32 exactly, int8 within half a quantization step.
func TestWriteRoundTrip(t *testing.T) {
	src, _ := openT(t, "models/llama2c/stories260K.bin")
	tensors := tensorMap(src)
	// A separate classifier that differs from the embedding.
	out := make([]float32, len(tensors["token_embd.weight"]))
	for i, x := range tensors["token_embd.weight"] {
		out[i] = -0.5*x + float32(i%7)*1e-3
	}
	for _, c := range []struct {
		version, group int
		shared         bool
		size           int
	}{
		{0, 0, true, 1056540}, {0, 0, false, 1056540 + 4*64*512},
		{1, 0, true, 256 + 1056540 - 28 - 2*4*512*4}, {1, 0, false, 256 + 1056540 - 28 - 2*4*512*4 + 4*64*512},
		{2, 64, true, 0}, {2, 64, false, 0}, {2, 0, true, 0}, {2, 256, false, 0}, {2, 48, false, 0},
	} {
		cfg := src.Config
		cfg.Version, cfg.GroupSize, cfg.SharedClassifier = c.version, c.group, c.shared
		m := map[string][]float32{}
		for k, v := range tensors {
			m[k] = v
		}
		if !c.shared {
			m["output.weight"] = out
		}
		var buf bytes.Buffer
		if err := Write(&buf, cfg, m); err != nil {
			t.Fatalf("v%d shared=%v: %v", c.version, c.shared, err)
		}
		if c.size != 0 && buf.Len() != c.size {
			t.Errorf("v%d shared=%v: %d bytes, want %d", c.version, c.shared, buf.Len(), c.size)
		}
		got, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("v%d shared=%v: %v", c.version, c.shared, err)
		}
		want := cfg
		if c.version == 2 {
			want.GroupSize = map[int]int{0: 64, 64: 64, 256: 64, 48: 1}[c.group] // export.py halves until it divides dim 64
		}
		if got.Config != want {
			t.Errorf("v%d: config %+v, want %+v", c.version, got.Config, want)
		}
		if len(got.Tensors) != len(m) {
			t.Errorf("v%d shared=%v: %d tensors, want %d", c.version, c.shared, len(got.Tensors), len(m))
		}
		for name, vals := range m {
			gt, ok := got.Tensor(name)
			if !ok {
				t.Errorf("v%d: %s missing", c.version, name)
				continue
			}
			quantized := c.version == 2 && !strings.HasSuffix(name, "norm.weight")
			checkValues(t, name, gt.Float32s(), vals, quantized, want.GroupSize)
		}
	}
}

// checkValues compares read-back values: equal, or for int8 groups within
// half a step (max|x|/127/2) of the original.
func checkValues(t *testing.T, name string, got, want []float32, quantized bool, group int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	if !quantized {
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], want[i])
				return
			}
		}
		return
	}
	for g := 0; g < len(want)/group; g++ {
		var amax float64
		for _, x := range want[g*group : (g+1)*group] {
			amax = math.Max(amax, math.Abs(float64(x)))
		}
		bound := amax/127/2*(1+1e-5) + 1e-12
		for i := g * group; i < (g+1)*group; i++ {
			if d := math.Abs(float64(got[i] - want[i])); d > bound {
				t.Errorf("%s[%d] = %g, want %g within %g", name, i, got[i], want[i], bound)
				return
			}
		}
	}
}

// TestCorruptCheckpoints: truncated, extended and malformed files give
// errors naming the problem, never panics.
func TestCorruptCheckpoints(t *testing.T) {
	_, orig := openT(t, "models/llama2c/stories260K.bin")
	for _, n := range []int{0, 1, 4, 27, 28, 29, 1000, len(orig) - 4, len(orig) - 1} {
		if _, err := Parse(orig[:n]); err == nil || !strings.HasPrefix(err.Error(), "llama2c: ") {
			t.Errorf("truncated to %d bytes: err = %v", n, err)
		}
	}
	if _, err := Parse(append(append([]byte{}, orig...), 0, 0, 0, 0)); err == nil {
		t.Error("4 extra bytes accepted")
	}
	le := binary.LittleEndian
	legacy := func(off int, v int32) []byte {
		b := append([]byte{}, orig...)
		le.PutUint32(b[off:], uint32(v))
		return b
	}
	var v1, v2 bytes.Buffer
	src, _ := Parse(orig)
	cfg := src.Config
	cfg.Version = 1
	if err := Write(&v1, cfg, tensorMap(src)); err != nil {
		t.Fatal(err)
	}
	cfg.Version, cfg.GroupSize = 2, 32
	if err := Write(&v2, cfg, tensorMap(src)); err != nil {
		t.Fatal(err)
	}
	patch := func(b []byte, off int, v []byte) []byte {
		b = append([]byte{}, b...)
		copy(b[off:], v)
		return b
	}
	i32 := func(v int32) []byte { return le.AppendUint32(nil, uint32(v)) }
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"dim 0", "dim = 0", legacy(0, 0)},
		{"dim negative", "dim = -64", legacy(0, -64)},
		{"dim huge", "dim = 1073741824", legacy(0, 1<<30)},
		{"hidden 0", "hidden_dim = 0", legacy(4, 0)},
		{"layers huge", "n_layers", legacy(8, 1<<20)},
		{"heads not dividing dim", "not a multiple of n_heads", legacy(12, 7)},
		{"odd head size", "odd", legacy(12, 64)},
		{"kv heads not dividing", "n_kv_heads 3", legacy(16, 3)},
		{"kv heads > heads", "n_kv_heads 16", legacy(16, 16)},
		{"vocab 0", "vocab_size = 0", legacy(20, 0)},
		{"vocab min int32", "vocab_size = 2147483648", legacy(20, math.MinInt32)},
		{"vocab unshared", "implies", legacy(20, -512)},
		{"vocab larger", "implies", legacy(20, 513)},
		{"seq_len 0", "seq_len = 0", legacy(24, 0)},
		{"v1 version 3", "version 3", patch(v1.Bytes(), 4, i32(3))},
		{"v1 shared flag 2", "shared_classifier = 2", patch(v1.Bytes(), 36, []byte{2})},
		{"v1 cleared shared flag", "implies", patch(v1.Bytes(), 36, []byte{0})},
		{"v1 short header", "too short", v1.Bytes()[:100]},
		{"v1 truncated", "implies", v1.Bytes()[:v1.Len()-1]},
		{"v2 group 0", "group_size = 0", patch(v2.Bytes(), 37, i32(0))},
		{"v2 group negative", "group_size = -1", patch(v2.Bytes(), 37, i32(-1))},
		{"v2 group not dividing", "whole number of groups", patch(v2.Bytes(), 37, i32(60))},
		{"v2 other group", "implies", patch(v2.Bytes(), 37, i32(64))},
	} {
		_, err := Parse(c.b)
		if err == nil || !strings.HasPrefix(err.Error(), "llama2c: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir() + "/missing.bin"); err == nil || !strings.HasPrefix(err.Error(), "llama2c: ") {
		t.Errorf("missing file: %v", err)
	}
	p := t.TempDir() + "/empty.bin"
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "empty.bin") {
		t.Errorf("empty file: %v", err)
	}
	c, err := Open(shareddata.Path(t, "models/llama2c/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, ok := c.Tensor("token_embd.weight"); ok {
		t.Error("tensor still reachable after Close")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	src, _ := openT(t, "models/llama2c/stories260K.bin")
	m := tensorMap(src)
	cfg := src.Config
	cfg.SharedClassifier = false
	if err := Write(&bytes.Buffer{}, cfg, m); err == nil || !strings.Contains(err.Error(), "output.weight missing") {
		t.Errorf("missing classifier: %v", err)
	}
	m["blk.0.attn_q.weight"] = m["blk.0.attn_q.weight"][1:]
	if err := Write(&bytes.Buffer{}, src.Config, m); err == nil || !strings.Contains(err.Error(), "attn_q") {
		t.Errorf("short tensor: %v", err)
	}
	cfg = src.Config
	cfg.Heads = 5
	if err := Write(&bytes.Buffer{}, cfg, tensorMap(src)); err == nil {
		t.Error("bad config written")
	}
}

// tinyFile writes a small random checkpoint of the given version, the fuzz
// seeds.
func tinyFile(tb testing.TB, version int, shared bool) []byte {
	cfg := Config{Dim: 8, Hidden: 12, Layers: 1, Heads: 2, KVHeads: 1, Vocab: 6, SeqLen: 4, SharedClassifier: shared, Version: version, GroupSize: 4}
	m := map[string][]float32{}
	x := float32(0.1)
	for _, s := range layout(cfg) {
		if s.name == "" {
			continue
		}
		v := make([]float32, s.elements())
		for i := range v {
			x = x*1.7 - float32(i%3)*0.4
			if x > 2 || x < -2 {
				x /= 3
			}
			v[i] = x
		}
		m[s.name] = v
	}
	var buf bytes.Buffer
	if err := Write(&buf, cfg, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzParse: any bytes parse or fail cleanly; a parsed file has consistent
// tensors, and a versioned fp32 file writes back to the same bytes.
func FuzzParse(f *testing.F) {
	for _, v := range []int{0, 1, 2} {
		for _, shared := range []bool{true, false} {
			f.Add(tinyFile(f, v, shared))
		}
	}
	f.Add([]byte{})
	f.Add(le32s(64, 172, 5, 8, 4, 512, 512))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "llama2c: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if err := c.Config.Validate(); err != nil {
			t.Fatalf("parsed an invalid config: %v", err)
		}
		for _, tt := range c.Tensors {
			if len(tt.Data) != 4*tt.Elements() {
				t.Fatalf("%s: %d bytes for shape %v", tt.Name, len(tt.Data), tt.Shape)
			}
			if got, ok := c.Tensor(tt.Name); !ok || len(got.Data) != len(tt.Data) {
				t.Fatalf("Tensor(%s) lookup failed", tt.Name)
			}
		}
		if c.Config.Version == 1 && bytes.Equal(b[37:HeaderSize], make([]byte, HeaderSize-37)) {
			var buf bytes.Buffer
			if err := Write(&buf, c.Config, tensorMap(c)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), b) {
				t.Fatal("v1 file does not write back to the same bytes")
			}
		}
	})
}

func le32s(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}
