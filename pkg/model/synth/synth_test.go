package synth

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestPlanReferenceSizes: the TinyLlama-1.1B plans hold exactly the tensor
// bytes of the files llama.cpp's reference speeds were measured on
// (shared/models/README.md; llama-bench's "size"), which pins the type mixes.
func TestPlanReferenceSizes(t *testing.T) {
	s := Presets[DefaultPreset]
	for _, c := range []struct {
		mix   Mix
		bytes uint64
		types map[tensor.Type]int
	}{
		{F16, 2200281088, map[tensor.Type]int{tensor.F16: 156, tensor.F32: 45}},
		{BF16, 2200281088, map[tensor.Type]int{tensor.BF16: 156, tensor.F32: 45}},
		{Q8_0, 1169072128, map[tensor.Type]int{tensor.Q8_0: 156, tensor.F32: 45}},
		{Q4_0, 635990016, map[tensor.Type]int{tensor.Q4_0: 155, tensor.Q6_K: 1, tensor.F32: 45}},
		{Q4_K_M, 667078656, map[tensor.Type]int{tensor.Q4_K: 135, tensor.Q6_K: 21, tensor.F32: 45}},
		{Q6_K, 902676480, map[tensor.Type]int{tensor.Q6_K: 156, tensor.F32: 45}},
		{F32, 4399824896 + 368640, map[tensor.Type]int{tensor.F32: 201}},
		// No reference files for these three; the sizes follow from the
		// counts below (TinyLlama-1.1B's published Q5_K_M and Q3_K_M files
		// are 782 and 551 MB with their metadata).
		{Q5_K_M, 781307904, map[tensor.Type]int{tensor.Q5_K: 135, tensor.Q6_K: 21, tensor.F32: 45}},
		{Q3_K_M, 547667968, map[tensor.Type]int{tensor.Q3_K: 89, tensor.Q4_K: 63, tensor.Q5_K: 3, tensor.Q6_K: 1, tensor.F32: 45}},
		{Q2_K, 431394816, map[tensor.Type]int{tensor.Q2_K: 89, tensor.Q3_K: 44, tensor.Q4_K: 22, tensor.Q6_K: 1, tensor.F32: 45}},
	} {
		specs, err := Plan(s, c.mix)
		if err != nil {
			t.Fatal(err)
		}
		if got := DataBytes(specs); got != c.bytes {
			t.Errorf("%s: %d bytes of tensors, want %d", c.mix, got, c.bytes)
		}
		if got := TypeCounts(specs); fmt.Sprint(got) != fmt.Sprint(c.types) {
			t.Errorf("%s: types %v, want %v", c.mix, got, c.types)
		}
	}
}

// TestMixLayers: the layers whose attn_v and ffn_down get more bits in a
// 22-layer file (Q4_K_M and Q5_K_M: Q6_K where llama.cpp's use_more_bits
// picks; Q3_K_M: Q5_K in attn_v of the first two layers and ffn_down of the
// first 22/16), and the other tensors' types where a mix changes them.
func TestMixLayers(t *testing.T) {
	moreBits := []int{0, 1, 4, 7, 10, 13, 16, 19, 20, 21}
	for _, c := range []struct {
		mix            Mix
		more           tensor.Type
		v, down        []int
		output, qgate  tensor.Type // attn_output, and attn_q/attn_k/ffn_gate/ffn_up
		baseV, baseDwn tensor.Type // attn_v and ffn_down outside the layers listed
	}{
		{Q4_K_M, tensor.Q6_K, moreBits, moreBits, tensor.Q4_K, tensor.Q4_K, tensor.Q4_K, tensor.Q4_K},
		{Q5_K_M, tensor.Q6_K, moreBits, moreBits, tensor.Q5_K, tensor.Q5_K, tensor.Q5_K, tensor.Q5_K},
		{Q3_K_M, tensor.Q5_K, []int{0, 1}, []int{0}, tensor.Q4_K, tensor.Q3_K, tensor.Q4_K, tensor.Q4_K},
		{Q2_K, tensor.Q5_K, nil, nil, tensor.Q3_K, tensor.Q2_K, tensor.Q4_K, tensor.Q3_K},
	} {
		specs, err := Plan(Presets[DefaultPreset], c.mix)
		if err != nil {
			t.Fatal(err)
		}
		var v, down []int
		for _, s := range specs {
			switch {
			case strings.HasSuffix(s.Name, "attn_v.weight") && s.Type == c.more:
				v = append(v, s.Layer)
			case strings.HasSuffix(s.Name, "ffn_down.weight") && s.Type == c.more:
				down = append(down, s.Layer)
			case strings.HasSuffix(s.Name, "attn_v.weight") && s.Type != c.baseV,
				strings.HasSuffix(s.Name, "ffn_down.weight") && s.Type != c.baseDwn,
				strings.HasSuffix(s.Name, "attn_output.weight") && s.Type != c.output:
				t.Errorf("%s: %s is %s", c.mix, s.Name, s.Type)
			case s.Layer >= 0 && !s.Norm && !strings.Contains(s.Name, "attn_v") && !strings.Contains(s.Name, "ffn_down") &&
				!strings.Contains(s.Name, "attn_output") && s.Type != c.qgate:
				t.Errorf("%s: %s is %s, want %s", c.mix, s.Name, s.Type, c.qgate)
			}
		}
		if fmt.Sprint(v) != fmt.Sprint(c.v) || fmt.Sprint(down) != fmt.Sprint(c.down) {
			t.Errorf("%s: %s attn_v in layers %v, ffn_down in %v, want %v and %v", c.mix, c.more, v, down, c.v, c.down)
		}
	}
}

// TestPlanMatchesLlamaQuantize compares plans with files llama-quantize
// wrote: tiny256 (every mix; same order, names, shapes and types) and
// stories260K (rows of 64 and 172 elements: the fallback types).
func TestPlanMatchesLlamaQuantize(t *testing.T) {
	tiny := Presets["tiny256"]
	stories := Shape{Dim: 64, Hidden: 172, Layers: 5, Heads: 8, KVHeads: 4, Vocab: 512, Context: 2048, RopeBase: 10000, RMSEps: 1e-5}
	for _, c := range []struct {
		file    string
		shape   Shape
		mix     Mix
		ordered bool
	}{
		{"models/tiny256/tiny256-F32.gguf", tiny, F32, false},
		{"models/tiny256/tiny256-F16.gguf", tiny, F16, false},
		{"models/tiny256/tiny256-Q8_0.gguf", tiny, Q8_0, true},
		{"models/tiny256/tiny256-Q4_0.gguf", tiny, Q4_0, true},
		{"models/tiny256/tiny256-Q4_K_M.gguf", tiny, Q4_K_M, true},
		{"models/tiny256/tiny256-Q6_K.gguf", tiny, Q6_K, true},
		{"models/gguf/stories260K-Q8_0.gguf", stories, Q8_0, false},
		{"models/gguf/stories260K-Q4_0.gguf", stories, Q4_0, false},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			f, err := gguf.Open(shareddata.Path(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			specs, err := Plan(c.shape, c.mix)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(specs) {
				t.Fatalf("file has %d tensors, plan %d", len(f.Tensors), len(specs))
			}
			for i, s := range specs {
				ti, ok := f.Tensor(s.Name)
				if c.ordered {
					ti, ok = f.Tensors[i], f.Tensors[i].Name == s.Name
				}
				if !ok {
					t.Errorf("tensor %d: plan %s, file %s", i, s.Name, f.Tensors[i].Name)
					continue
				}
				if ti.Type != s.Type || fmt.Sprint(ti.Shape) != fmt.Sprint(s.Shape) {
					t.Errorf("%s: file %s %v, plan %s %v", s.Name, ti.Type, ti.Shape, s.Type, s.Shape)
				}
			}
			if ft, ok := f.Uint("general.file_type"); !ok || uint32(ft) != c.mix.FileType() {
				t.Errorf("general.file_type %d (%v), plan %d", ft, ok, c.mix.FileType())
			}
		})
	}
}

// TestWriteRuns writes a small model in every mix and checks that it opens
// with the planned tensor types, that the engine runs it, and that the
// weights have the distribution asked for.
func TestWriteRuns(t *testing.T) {
	dir := t.TempDir()
	shape := Presets["tiny256"]
	for _, mix := range Mixes {
		t.Run(string(mix), func(t *testing.T) {
			path := filepath.Join(dir, string(mix)+".gguf")
			var calls int
			res, err := Write(path, Options{Shape: shape, Mix: mix, Seed: 7, Threads: 2,
				Progress: func(string, uint64, uint64) { calls++ }})
			if err != nil {
				t.Fatal(err)
			}
			if calls != len(res.Tensors) {
				t.Errorf("progress called %d times for %d tensors", calls, len(res.Tensors))
			}
			if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
				t.Errorf("temporary file left behind: %v", err)
			}
			m, err := model.Open(path, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want := model.Config{Arch: "llama", Dim: 256, Hidden: 768, Layers: 2, Heads: 8, KVHeads: 4, HeadDim: 32,
				Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5}
			if m.Config != want {
				t.Errorf("config %+v, want %+v", m.Config, want)
			}
			if m.FileSize != res.FileBytes || uint64(res.FileBytes) <= res.DataBytes {
				t.Errorf("file %d bytes, result says %d (data %d)", m.FileSize, res.FileBytes, res.DataBytes)
			}
			for _, s := range res.Tensors {
				mt, ok := m.Tensor(s.Name)
				if !ok || mt.Type != s.Type {
					t.Errorf("%s: type %s (present %v), want %s", s.Name, mt.Type, ok, s.Type)
				}
			}
			checkWeights(t, m)

			w, err := loader.Memory(m)
			if err != nil {
				t.Fatal(err)
			}
			pool := kernels.NewPool(2)
			defer pool.Close()
			eng, err := llm.NewEngine(m.Config, w, pool, llm.Options{Context: 16})
			if err != nil {
				t.Fatal(err)
			}
			prompt := m.Tokenizer.Encode("Hello", true, true)
			logits, err := eng.Eval(prompt, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(logits) != m.Config.Vocab {
				t.Fatalf("%d logits, want %d", len(logits), m.Config.Vocab)
			}
			var sum float64
			for _, x := range logits {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("non-finite logit %g", x)
				}
				sum += math.Abs(float64(x))
			}
			if sum == 0 {
				t.Errorf("all logits are zero")
			}
			if _, err := eng.Eval([]int{5}, len(prompt), false); err != nil {
				t.Errorf("generation step: %v", err)
			}
		})
	}
}

// checkWeights decodes the norms (all ones) and a weight matrix (mean 0,
// standard deviation 0.02 up to sampling and quantization error).
func checkWeights(t *testing.T, m *model.Model) {
	t.Helper()
	decode := func(name string) []float32 {
		mt, _ := m.Tensor(name)
		out := make([]float32, mt.Elements())
		if err := kernels.DequantizeRow(mt.Type, out, mt.Data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out
	}
	for _, x := range decode("blk.1.ffn_norm.weight") {
		if x != 1 {
			t.Fatalf("norm weight %g, want 1", x)
		}
	}
	var s, s2 float64
	w := decode("blk.0.ffn_up.weight")
	for _, x := range w {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	mean := s / float64(len(w))
	std := math.Sqrt(s2/float64(len(w)) - mean*mean)
	if math.Abs(mean) > 5e-4 || math.Abs(std-0.02) > 0.02*0.1 {
		t.Errorf("ffn_up: mean %g, std %g; want 0 and 0.02", mean, std)
	}
}

// TestWriteDeterministic: a seed gives the same bytes whatever the thread
// count; another seed gives other weights.
func TestWriteDeterministic(t *testing.T) {
	dir := t.TempDir()
	shape := Shape{Dim: 256, Hidden: 512, Layers: 1, Heads: 4, KVHeads: 2, Vocab: 300, Context: 64, RopeBase: 10000, RMSEps: 1e-5}
	sum := func(name string, seed uint64, threads int) [32]byte {
		path := filepath.Join(dir, name)
		if _, err := Write(path, Options{Shape: shape, Mix: Q4_K_M, Seed: seed, Threads: threads}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	a, b, c := sum("a", 1, 1), sum("b", 1, 3), sum("c", 2, 2)
	if a != b {
		t.Errorf("seed 1: 1 thread and 3 threads wrote different files")
	}
	if a == c {
		t.Errorf("seeds 1 and 2 wrote the same file")
	}
}

// TestVocabFrom copies the Llama 2 vocabulary: the model's tokenizer then
// encodes as Llama 2 does.
func TestVocabFrom(t *testing.T) {
	v, err := VocabFrom(shareddata.Path(t, "models/vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Size != 32000 {
		t.Fatalf("%d tokens, want 32000", v.Size)
	}
	shape := Shape{Dim: 64, Hidden: 128, Layers: 1, Heads: 4, KVHeads: 4, Vocab: 32000, Context: 32, RopeBase: 10000, RMSEps: 1e-5}
	path := filepath.Join(t.TempDir(), "m.gguf")
	if _, err := Write(path, Options{Shape: shape, Mix: F16, Vocab: v}); err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(path, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// "▁Hello" and "▁world" in the Llama 2 vocabulary.
	if got := m.Tokenizer.Encode("Hello world", true, false); fmt.Sprint(got) != "[1 15043 3186]" {
		t.Errorf("Encode(Hello world) = %v, want [1 15043 3186]", got)
	}

	shape.Vocab = 512
	if _, err := Write(path, Options{Shape: shape, Mix: F16, Vocab: v}); err == nil || !strings.Contains(err.Error(), "32000 tokens") {
		t.Errorf("vocabulary of the wrong size: error %v", err)
	}
}

// TestBadOptions: refusals name the problem and leave no file.
func TestBadOptions(t *testing.T) {
	good := Presets["tiny256"]
	for _, c := range []struct {
		name  string
		shape func(*Shape)
		mix   Mix
		want  string
	}{
		{"odd heads", func(s *Shape) { s.Heads = 3 }, F16, "not a multiple of 3 heads"},
		{"gqa", func(s *Shape) { s.KVHeads = 3 }, F16, "not a multiple of 3 kv heads"},
		{"zero layers", func(s *Shape) { s.Layers = 0 }, F16, "must be positive"},
		{"odd head dim", func(s *Shape) { s.Dim, s.Heads = 258, 2 }, F16, "must be even"},
		{"mix", func(*Shape) {}, Mix("Q3_K_S"), "unknown type"},
		{"vocab", func(s *Shape) { s.Vocab = 2 }, F16, "at least 3 tokens"},
	} {
		s := good
		c.shape(&s)
		path := filepath.Join(t.TempDir(), "m.gguf")
		_, err := Write(path, Options{Shape: s, Mix: c.mix})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: file written anyway", c.name)
		}
	}
	if _, err := ParseMix("q4_k_m"); err != nil {
		t.Errorf("ParseMix(q4_k_m): %v", err)
	}
	if _, err := ParseMix("Q4_K_S"); err == nil {
		t.Errorf("ParseMix(Q4_K_S) accepted")
	}
}

// TestSyntheticVocab: specials, byte tokens, unique pieces.
func TestSyntheticVocab(t *testing.T) {
	v, err := SyntheticVocab(300)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, kv := range v.KV {
		if kv.Key == "tokenizer.ggml.tokens" {
			tokens = kv.Value.(gguf.Array).Values.([]string)
		}
	}
	if len(tokens) != 300 || tokens[1] != "<s>" || tokens[3] != "<0x00>" || tokens[258] != "<0xFF>" || tokens[299] != "▁tok299" {
		t.Errorf("tokens: %d, %q %q %q %q", len(tokens), tokens[1], tokens[3], tokens[258], tokens[len(tokens)-1])
	}
	seen := map[string]bool{}
	for _, s := range tokens {
		if seen[s] {
			t.Errorf("duplicate token %q", s)
		}
		seen[s] = true
	}
	if tokens[259] != "▁tok259" {
		t.Errorf("first piece %q, want ▁tok259", tokens[259])
	}
}
