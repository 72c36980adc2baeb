package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model/gguf"
	"github.com/llmboot/llmboot/pkg/tensor"
)

func runCmd(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = run(args, &o, &e)
	return o.String(), e.String(), err
}

// TestRunMatchesRunC is the acceptance check: the llama2.c
// checkpoint, greedy, 256 steps, prints exactly what run.c printed.
func TestRunMatchesRunC(t *testing.T) {
	bin := shareddata.Path(t, "models/llama2c/stories260K.bin")
	tok := shareddata.Path(t, "models/llama2c/tok512.bin")
	want, err := os.ReadFile(shareddata.Path(t, "models/llama2c/stories260K.greedy-t0-n256.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runCmd("run", bin, "--tokenizer", tok, "--temp", "0", "-n", "256")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if out != string(want) {
		t.Errorf("stdout differs from run.c's:\n got: %q\nwant: %q", out, want)
	}
	for _, s := range []string{"loaded in", "prompt: 1 tokens", "generated: 256 tokens", "tok/s"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("summary lacks %q:\n%s", s, stderr)
		}
	}
}

func TestRunGGUF(t *testing.T) {
	m := shareddata.Path(t, "models/gguf/stories260K.gguf")
	out, stderr, err := runCmd("run", m, "-p", "Once upon a time", "-n", "20", "--temp", "0", "-t", "1")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	// The reference's first greedy tokens after this prompt (llama.cpp).
	if !strings.HasPrefix(out, "Once upon a time, there was a little girl named Lily.") {
		t.Errorf("unexpected text %q", out)
	}
	if !strings.Contains(stderr, "generated: 20 tokens") || !strings.Contains(stderr, "token limit reached") {
		t.Errorf("summary: %s", stderr)
	}
	// Same seed, same sampled text; flags after the model as llama.cpp users type them.
	a, _, err := runCmd("run", m, "-n", "30", "--seed", "7", "--temp", "1", "--no-display-prompt")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := runCmd("run", "--seed", "7", "-n", "30", m, "--temp", "1", "--no-display-prompt")
	if a != b || len(a) < 10 {
		t.Errorf("seeded runs differ or are empty:\n%q\n%q", a, b)
	}
	// Context of 8: generation stops at the end of the context and says so.
	_, stderr, err = runCmd("run", m, "-c", "8", "--temp", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "context full") || !strings.Contains(stderr, "generated: 8 tokens") {
		t.Errorf("context stop: %s", stderr)
	}
	// --fast-prompt (blockwise prompt kernels) keeps stories260K Q8_0's
	// greedy tokens (reference: stories260K.generation.json).
	q8 := shareddata.Path(t, "models/gguf/stories260K-Q8_0.gguf")
	want, _, err := runCmd("run", q8, "-p", "Once upon a time", "-n", "40", "--temp", "0", "-t", "2")
	if err != nil {
		t.Fatal(err)
	}
	got, stderr, err := runCmd("run", q8, "-p", "Once upon a time", "-n", "40", "--temp", "0", "-t", "2", "--fast-prompt")
	if err != nil || got != want || !strings.Contains(stderr, "kernels, blockwise prompts") {
		t.Errorf("--fast-prompt: %v\n%q\nwithout it:\n%q\n%s", err, got, want, stderr)
	}
}

func TestInfoAndTokenize(t *testing.T) {
	m := shareddata.Path(t, "models/gguf/stories260K.gguf")
	out, _, err := runCmd("info", m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"architecture:   llama", "dim:            64", "layers:         5",
		"heads:          8 (kv heads 4, head dim 8)", "vocab:          512", "F32           48", "llama (SentencePiece BPE)"} {
		if !strings.Contains(out, s) {
			t.Errorf("info lacks %q:\n%s", s, out)
		}
	}
	out, _, err = runCmd("tokenize", m, "Hello world", "--ids")
	if err != nil {
		t.Fatal(err)
	}
	// shared/reference/tokenizer.json, tok512 vocabulary.
	if strings.TrimSpace(out) != "[1, 346, 306, 414, 263, 304, 341]" {
		t.Errorf("tokenize: %q", out)
	}
	out, _, err = runCmd("tokenize", m, "Hello")
	if err != nil || !strings.Contains(out, `346 -> "▁He"`) {
		t.Errorf("tokenize pieces: %q %v", out, err)
	}
}

// TestErrors: every mistake a user can make gets one clear line naming the
// thing, and a non-zero exit (an error from run).
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	good := shareddata.Path(t, "models/gguf/stories260K.gguf")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.gguf")
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	garbage := filepath.Join(dir, "garbage.bin")
	os.WriteFile(garbage, []byte("this is not a model at all, just some text"), 0o644)
	unsupported := filepath.Join(dir, "iq2.gguf")
	writeUnsupported(t, unsupported)
	arch := filepath.Join(dir, "arch.gguf")
	writeArch(t, arch, "mamba")

	for _, c := range []struct {
		name string
		args []string
		want string
		use  bool // a usage error (exit status 2)
	}{
		{"missing file", []string{"run", filepath.Join(dir, "nope.gguf")}, "nope.gguf: no such file or directory", false},
		{"directory", []string{"run", dir}, "is a directory", false},
		{"truncated", []string{"run", truncated}, "past end of file", false},
		{"garbage", []string{"run", garbage}, "garbage.bin", false},
		{"unsupported type", []string{"run", unsupported}, "IQ2_XXS", false},
		{"unknown architecture", []string{"run", arch}, `architecture "mamba" is not supported (supported: llama)`, false},
		{"prompt too long", []string{"run", good, "-c", "4", "-p", "Once upon a time there was"}, "longer than the context of 4", false},
		{"missing tokenizer", []string{"run", shareddata.Path(t, "models/llama2c/stories260K.bin"), "--tokenizer", filepath.Join(dir, "tok.bin")}, "tok.bin", false},
		{"no model", []string{"run"}, "missing MODEL", true},
		{"bad flag", []string{"run", good, "--frobnicate"}, "frobnicate", true},
		{"bad cache type", []string{"run", good, "--cache-type", "q4"}, `cache type "q4"`, true},
		{"unknown subcommand", []string{"fly"}, `unknown subcommand "fly"`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runCmd(c.args...)
			if err == nil {
				t.Fatalf("no error; stdout %q", out)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, c.want)
			}
			var ue usageError
			if errors.As(err, &ue) != c.use {
				t.Errorf("usage error = %v, want %v", !c.use, c.use)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	_, stderr, err := runCmd("run", "--help")
	if !errors.Is(err, errHelp) || !strings.Contains(stderr, "--top-k") || !strings.Contains(stderr, "Usage: llmboot run MODEL") {
		t.Errorf("run --help: %v\n%s", err, stderr)
	}
	out, _, err := runCmd("--help")
	if err != nil || !strings.Contains(out, "llmboot tokenize MODEL TEXT") {
		t.Errorf("--help: %v %q", err, out)
	}
}

// writeUnsupported writes a copy of the bundled model whose blk.0.attn_q
// claims ggml type IQ2_XXS, which llmboot has no kernels for.
func writeUnsupported(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	// Tensor info: name (u64 length + bytes), n_dims u32, dims u64 each, type u32.
	name := []byte("blk.0.attn_q.weight")
	at := bytes.Index(data, name)
	if at < 0 {
		t.Fatal("tensor info not found")
	}
	p := at + len(name)
	ndims := int(binary.LittleEndian.Uint32(data[p:]))
	p += 4 + 8*ndims
	if tensor.Type(binary.LittleEndian.Uint32(data[p:])) != tensor.F32 {
		t.Fatal("type field not where expected")
	}
	binary.LittleEndian.PutUint32(data[p:], 16)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeArch(t *testing.T, path, arch string) {
	t.Helper()
	src, err := gguf.Open(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := copyMeta(t, src, arch)
	for _, ti := range src.Tensors {
		data, _ := src.TensorData(ti.Name)
		if err := w.AddTensor(ti.Name, ti.Type, ti.Shape, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := gguf.WriteFile(path, w); err != nil {
		t.Fatal(err)
	}
}

// copyMeta copies src's metadata into a new writer, renaming the
// architecture (and its keys) when arch is set.
func copyMeta(t *testing.T, src *gguf.File, arch string) *gguf.Writer {
	t.Helper()
	w := gguf.NewWriter()
	for _, kv := range src.KV {
		key, val := kv.Key, kv.Value
		if arch != "" {
			if key == "general.architecture" {
				val = arch
			}
			if strings.HasPrefix(key, "llama.") {
				key = arch + key[len("llama"):]
			}
		}
		if err := w.AddKV(key, val); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	return w
}
