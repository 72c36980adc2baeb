package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/model/synth"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestGenModelThenBench: gen-model writes the planned file, it opens with
// the shape asked for, and bench runs it.
func TestGenModelThenBench(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "m.gguf")
	stdout, stderr, err := runCmd("gen-model", "--preset", "tiny256", "--type", "q4_k_m", "--seed", "3", "-t", "2", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	specs, err := synth.Plan(synth.Presets["tiny256"], synth.Q4_K_M)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	wantLine := fmt.Sprintf("%s: tiny256 Q4_K_M, 21 tensors (Q4_K 13, F32 5, Q6_K 3), tensor data %d B, file %d B", out, synth.DataBytes(specs), st.Size())
	if !strings.HasPrefix(stdout, wantLine) {
		t.Errorf("stdout %q\nwant prefix %q", stdout, wantLine)
	}
	if !strings.Contains(stderr, "gen-model: 100%") || !strings.Contains(stderr, "vocab 512 (synthetic)") {
		t.Errorf("progress lines:\n%s", stderr)
	}
	m, err := model.Open(out, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if mt, ok := m.Tensor(s.Name); !ok || mt.Type != s.Type {
			t.Errorf("%s: %s, want %s", s.Name, mt.Type, s.Type)
		}
	}
	m.Close()

	js, _, err := runCmd("bench", out, "-t", "2", "-p", "4", "-n", "2", "-r", "1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(strings.SplitN(js, "\n", 2)[0]), &r); err != nil {
		t.Fatal(err)
	}
	if r.ModelType != "Q4_K 13, F32 5, Q6_K 3" || r.ModelSize != int64(synth.DataBytes(specs)) {
		t.Errorf("bench sees %q, %d bytes", r.ModelType, r.ModelSize)
	}
}

// TestGenModelShapeFlags: every shape flag reaches the file.
func TestGenModelShapeFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.gguf")
	_, stderr, err := runCmd("gen-model", out, "--type", "Q8_0", "--dim", "128", "--hidden", "320", "--layers", "3",
		"--heads", "4", "--kv-heads", "2", "--vocab", "300", "--ctx", "96", "--vocab-from", "none")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	m, err := model.Open(out, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := model.Config{Arch: "llama", Dim: 128, Hidden: 320, Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 32, Vocab: 300,
		Context: 96, RopeBase: 10000, RMSEps: 1e-5}
	if m.Config != want {
		t.Errorf("config %+v\nwant %+v", m.Config, want)
	}
	// Rows of 128 are Q8_0 blocks; ffn_down's rows of 320 too.
	for _, tc := range m.TypeCounts() {
		if tc.Type != tensor.Q8_0 && tc.Type != tensor.F32 {
			t.Errorf("type %s in a Q8_0 file", tc.Type)
		}
	}
}

func TestGenModelVocabFrom(t *testing.T) {
	vocab := shareddata.Path(t, "models/vocab/ggml-vocab-llama-spm.gguf")
	dir := t.TempDir()
	out := filepath.Join(dir, "m.gguf")
	_, stderr, err := runCmd("gen-model", out, "--type", "F16", "--dim", "64", "--hidden", "64", "--layers", "1", "--heads", "2",
		"--kv-heads", "2", "--vocab-from", vocab)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	m, err := model.Open(out, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Config.Vocab != 32000 || m.Tokenizer.Vocab().Tokens[15043] != "▁Hello" {
		t.Errorf("vocab %d, token 15043 %q", m.Config.Vocab, m.Tokenizer.Vocab().Tokens[15043])
	}
	_, _, err = runCmd("gen-model", filepath.Join(dir, "x.gguf"), "--preset", "tiny256", "--vocab", "512", "--vocab-from", vocab)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "32000 tokens") {
		t.Errorf("vocabulary size mismatch: %v", err)
	}
}

func TestGenModelUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.gguf")
	for _, args := range [][]string{
		{"gen-model"},
		{"gen-model", out, "--type", "Q4_K_S"},
		{"gen-model", out, "--preset", "llama-70b"},
		{"gen-model", out, "--heads", "5", "--preset", "tiny256"},
		{"gen-model", out, "--layers", "-1"},
		{"gen-model", out, "-t", "0", "--preset", "tiny256"},
		{"gen-model", out, out},
	} {
		_, _, err := runCmd(args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: error %v, want a usage error", args[1:], err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused command wrote %s", out)
	}
}
