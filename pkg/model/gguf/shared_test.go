package gguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// sharedGGUFs returns every GGUF the shared roots hold in the known folders,
// relative path -> path found by shareddata.Find.
func sharedGGUFs(tb testing.TB) ([]string, map[string]string) {
	tb.Helper()
	rels := map[string]bool{"reference/quant_vectors.gguf": true}
	for _, root := range shareddata.Roots() {
		for _, pat := range []string{"models/gguf/*.gguf", "models/tiny256/*.gguf", "models/vocab/*.gguf"} {
			m, _ := filepath.Glob(filepath.Join(root, pat))
			for _, p := range m {
				if rel, err := filepath.Rel(root, p); err == nil {
					rels[filepath.ToSlash(rel)] = true
				}
			}
		}
	}
	paths := map[string]string{}
	var names []string
	for rel := range rels {
		if p := shareddata.Find(rel); p != "" {
			paths[rel] = p
			names = append(names, rel)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		tb.Skip("no GGUF files in", shareddata.Roots())
	}
	return names, paths
}

func openT(tb testing.TB, rel string) *File {
	tb.Helper()
	f, err := Open(shareddata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func TestStories260K(t *testing.T) {
	f := openT(t, "models/gguf/stories260K.gguf")
	if f.Version != 3 || f.Alignment != 32 || len(f.KV) != 19 || len(f.Tensors) != 48 {
		t.Errorf("version %d, alignment %d, %d keys, %d tensors; want 3, 32, 19, 48", f.Version, f.Alignment, len(f.KV), len(f.Tensors))
	}
	for key, want := range map[string]string{"general.architecture": "llama", "tokenizer.ggml.model": "llama", "general.name": "llama"} {
		if got, ok := f.String(key); !ok || got != want {
			t.Errorf("String(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for key, want := range map[string]uint64{
		"llama.embedding_length": 64, "llama.block_count": 5, "llama.feed_forward_length": 172,
		"llama.attention.head_count": 8, "llama.attention.head_count_kv": 4, "llama.context_length": 2048,
		"llama.rope.dimension_count": 8, "tokenizer.ggml.bos_token_id": 1, "tokenizer.ggml.eos_token_id": 2,
	} {
		if got, ok := f.Uint(key); !ok || got != want {
			t.Errorf("Uint(%q) = %d, %v; want %d", key, got, ok, want)
		}
		if got, ok := f.Int(key); !ok || got != int64(want) {
			t.Errorf("Int(%q) = %d, %v; want %d", key, got, ok, want)
		}
	}
	if kv, _ := f.Lookup("llama.embedding_length"); kv.Type != Uint32 {
		t.Errorf("llama.embedding_length is %s, want uint32", kv.Type)
	}
	if eps, ok := f.Float("llama.attention.layer_norm_rms_epsilon"); !ok || eps != float64(float32(1e-5)) {
		t.Errorf("rms epsilon = %g, %v", eps, ok)
	}
	toks, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(toks) != 512 || toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3] != "<0x00>" {
		t.Errorf("tokens: %d, first %q", len(toks), toks[:min(4, len(toks))])
	}
	if scores, ok := f.Float32s("tokenizer.ggml.scores"); !ok || len(scores) != 512 {
		t.Errorf("scores: %d, %v", len(scores), ok)
	}
	if types, ok := f.Int32s("tokenizer.ggml.token_type"); !ok || len(types) != 512 || types[0] != 2 || types[1] != 3 || types[3] != 6 {
		t.Errorf("token types: %v", types[:min(4, len(types))])
	}
	for _, c := range []struct {
		name  string
		typ   tensor.Type
		shape []uint64
	}{
		{"token_embd.weight", tensor.F32, []uint64{64, 512}},
		{"output.weight", tensor.F32, []uint64{64, 512}},
		{"output_norm.weight", tensor.F32, []uint64{64}},
		{"blk.0.attn_k.weight", tensor.F32, []uint64{64, 32}},
		{"blk.4.ffn_down.weight", tensor.F32, []uint64{172, 64}},
	} {
		ti, ok := f.Tensor(c.name)
		if !ok || ti.Type != c.typ || !reflect.DeepEqual(ti.Shape, c.shape) || ti.Size != ti.Elements()*4 {
			t.Errorf("tensor %s = %+v, want %s %v", c.name, ti, c.typ, c.shape)
		}
	}
	// The llama2.c checkpoint holds the same weight bytes, its embedding
	// right after a 28-byte header: an independent check of TensorData.
	emb, err := f.TensorData("token_embd.weight")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := f.TensorData("output.weight")
	if !bytes.Equal(emb, out) {
		t.Error("output.weight differs from token_embd.weight (the README says they are equal)")
	}
	bin, err := os.ReadFile(shareddata.Path(t, "models/llama2c/stories260K.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(emb) != 131072 || !bytes.Equal(emb, bin[28:28+len(emb)]) {
		t.Error("token_embd.weight differs from the llama2.c checkpoint's embedding")
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("found a missing tensor")
	}
	if _, err := f.TensorData("missing"); err == nil {
		t.Error("TensorData of a missing tensor succeeded")
	}
}

func TestQuantizedStories(t *testing.T) {
	for _, c := range []struct {
		file               string
		q, down, out, norm tensor.Type
	}{
		// Rows of 172 (ffn_down) are no whole number of 32-blocks: F16.
		{"models/gguf/stories260K-F16.gguf", tensor.F16, tensor.F16, tensor.F16, tensor.F32},
		{"models/gguf/stories260K-Q8_0.gguf", tensor.Q8_0, tensor.F16, tensor.Q8_0, tensor.F32},
		{"models/gguf/stories260K-Q4_0.gguf", tensor.Q4_0, tensor.F16, tensor.Q8_0, tensor.F32},
	} {
		f := openT(t, c.file)
		for name, want := range map[string]tensor.Type{
			"blk.0.attn_q.weight": c.q, "blk.3.ffn_down.weight": c.down, "output.weight": c.out, "blk.1.attn_norm.weight": c.norm,
		} {
			ti, ok := f.Tensor(name)
			if !ok || ti.Type != want {
				t.Errorf("%s: %s is %s, want %s", c.file, name, ti.Type, want)
				continue
			}
			n, _ := ti.Type.RowBytes(int(ti.Shape[0]))
			if ti.Size != uint64(n)*ti.Elements()/ti.Shape[0] {
				t.Errorf("%s: %s size %d", c.file, name, ti.Size)
			}
		}
	}
}

func TestTiny256(t *testing.T) {
	f := openT(t, "models/tiny256/tiny256-Q4_K_M.gguf")
	if n, _ := f.Uint("llama.embedding_length"); n != 256 {
		t.Errorf("embedding_length %d", n)
	}
	if n, _ := f.Uint("llama.feed_forward_length"); n != 768 {
		t.Errorf("feed_forward_length %d", n)
	}
	count := map[tensor.Type]int{}
	for _, ti := range f.Tensors {
		count[ti.Type]++
	}
	if count[tensor.Q4_K] == 0 || count[tensor.Q6_K] == 0 {
		t.Errorf("Q4_K_M mix: %v", count)
	}
	if ti, _ := f.Tensor("output.weight"); !reflect.DeepEqual(ti.Shape, []uint64{256, 512}) {
		t.Errorf("output.weight shape %v", ti.Shape)
	}
}

func TestVocabFiles(t *testing.T) {
	for _, c := range []struct {
		file, model string
		n           int
	}{
		{"models/vocab/ggml-vocab-llama-spm.gguf", "llama", 32000},
		{"models/vocab/ggml-vocab-phi-3.gguf", "llama", 32064},
		{"models/vocab/ggml-vocab-gpt-2.gguf", "gpt2", 50257},
		{"models/vocab/ggml-vocab-deepseek-coder.gguf", "gpt2", 32256},
		{"models/vocab/ggml-vocab-starcoder.gguf", "gpt2", 49152},
		{"models/vocab/ggml-vocab-gpt-neox.gguf", "gpt2", 50432},
	} {
		if shareddata.Find(c.file) == "" {
			t.Logf("%s absent, skipped", c.file)
			continue
		}
		f := openT(t, c.file)
		toks, ok := f.Strings("tokenizer.ggml.tokens")
		model, _ := f.String("tokenizer.ggml.model")
		if !ok || len(toks) != c.n || model != c.model || len(f.Tensors) != 0 {
			t.Errorf("%s: %d tokens, model %q, %d tensors; want %d, %q, 0", c.file, len(toks), model, len(f.Tensors), c.n, c.model)
		}
		if c.model == "gpt2" {
			if merges, ok := f.Strings("tokenizer.ggml.merges"); !ok || len(merges) == 0 {
				t.Errorf("%s: no merges", c.file)
			}
		}
	}
}

// TestQuantVectors checks the tensors of quant_vectors.gguf against the
// sizes, hashes and first values recorded in quant_vectors.json.
func TestQuantVectors(t *testing.T) {
	f := openT(t, "reference/quant_vectors.gguf")
	raw, err := os.ReadFile(shareddata.Path(t, "reference/quant_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Rows, Cols int
		Types      map[string]struct {
			Tensor        string `json:"tensor"`
			DequantTensor string `json:"dequant_tensor"`
			Bytes         uint64 `json:"bytes"`
			QuantSHA      string `json:"sha256_quant_bytes"`
			DequantSHA    string `json:"sha256_dequant_f32"`
		}
		SrcFirst8 [][]float32 `json:"src_first8_per_row"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Types) != 5 || len(f.Tensors) != 11 {
		t.Fatalf("%d types in the JSON, %d tensors in the file", len(ref.Types), len(f.Tensors))
	}
	shape := []uint64{uint64(ref.Cols), uint64(ref.Rows)}
	sha := func(name string) string {
		b, err := f.TensorData(name)
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	for typName, r := range ref.Types {
		ti, ok := f.Tensor(r.Tensor)
		if !ok || ti.Type.String() != typName || ti.Size != r.Bytes || !reflect.DeepEqual(ti.Shape, shape) {
			t.Errorf("%s: %+v, want %s %v %d bytes", r.Tensor, ti, typName, shape, r.Bytes)
		}
		if got := sha(r.Tensor); got != r.QuantSHA {
			t.Errorf("%s: sha256 %s, want %s", r.Tensor, got, r.QuantSHA)
		}
		if got := sha(r.DequantTensor); got != r.DequantSHA {
			t.Errorf("%s: sha256 %s, want %s", r.DequantTensor, got, r.DequantSHA)
		}
	}
	src, _ := f.TensorData("src")
	for row, want := range ref.SrcFirst8 {
		for i, w := range want {
			got := math.Float32frombits(binary.LittleEndian.Uint32(src[4*(row*ref.Cols+i):]))
			if got != w {
				t.Errorf("src[%d][%d] = %g, want %g", row, i, got, w)
			}
		}
	}
}

// TestRoundTrip writes every shared GGUF back through the Writer and wants
// the original bytes.
func TestRoundTrip(t *testing.T) {
	names, paths := sharedGGUFs(t)
	for _, rel := range names {
		f, err := Open(paths[rel])
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		got := rewrite(t, f)
		if !bytes.Equal(got, f.Data()) {
			i := 0
			for i < len(got) && i < len(f.Data()) && got[i] == f.Data()[i] {
				i++
			}
			t.Errorf("%s: rewritten file differs at byte %d (lengths %d, %d)", rel, i, len(got), len(f.Data()))
		}
		f.Close()
	}
	t.Logf("%d files round-tripped", len(names))
}

// rewrite writes f's metadata and tensors through a Writer.
func rewrite(tb testing.TB, f *File) []byte {
	tb.Helper()
	w := NewWriter()
	w.Version = f.Version
	for _, kv := range f.KV {
		if err := w.AddKV(kv.Key, kv.Value); err != nil {
			tb.Fatal(err)
		}
	}
	for _, ti := range f.Tensors {
		d, err := f.TensorData(ti.Name)
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.AddTensor(ti.Name, ti.Type, ti.Shape, d); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		tb.Fatalf("WriteTo: %d, %v (buffer %d)", n, err, buf.Len())
	}
	return buf.Bytes()
}

func TestOpenWithoutMmap(t *testing.T) {
	path := shareddata.Path(t, "models/gguf/stories260K.gguf")
	mapped := openT(t, "models/gguf/stories260K.gguf")
	defer func(m func(*os.File, int) ([]byte, func() error, error)) { mapFile = m }(mapFile)
	mapFile = func(*os.File, int) ([]byte, func() error, error) { return nil, nil, os.ErrPermission }
	read, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read.Data(), mapped.Data()) || !reflect.DeepEqual(read.Tensors, mapped.Tensors) || !reflect.DeepEqual(read.KV, mapped.KV) {
		t.Error("the read fallback parses differently from the mapping")
	}
	if err := read.Close(); err != nil {
		t.Error(err)
	}
	if _, err := read.TensorData("output.weight"); err == nil || read.Data() != nil {
		t.Error("data still available after Close")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "absent.gguf")); err == nil {
		t.Error("opened an absent file")
	}
	empty := filepath.Join(dir, "empty.gguf")
	os.WriteFile(empty, nil, 0o644)
	_, err := Open(empty)
	want := "gguf: " + empty + ": header at offset 0: magic needs 4 bytes, past end of file (size 0)"
	if err == nil || err.Error() != want {
		t.Errorf("empty file: %v\nwant %s", err, want)
	}
}

func BenchmarkParseVocab(b *testing.B) {
	data, err := os.ReadFile(shareddata.Path(b, "models/vocab/ggml-vocab-llama-spm.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
