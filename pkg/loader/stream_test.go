package loader

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/model/synth"
)

// generate runs greedy generation of n tokens after BOS and returns them.
func generate(t *testing.T, m *model.Model, w llm.Weights, n int) []int {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	e, err := llm.NewEngine(m.Config, w, pool, llm.Options{Context: 128})
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	// A 5-token prompt as one batch, then one token at a time.
	_, err = llm.Generate(e, []int{1, 403, 407, 261, 378}, llm.GenerateOptions{MaxTokens: n, StopEOS: -1, StopBOS: -1},
		func(id int) error { out = append(out, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStreamMatchesMemory: every ring size and classifier placement gives
// the tokens of the resident weights, for every tensor type.
func TestStreamMatchesMemory(t *testing.T) {
	for _, file := range []string{
		"models/gguf/stories260K.gguf", "models/gguf/stories260K-Q4_0.gguf",
		"models/tiny256/tiny256-Q4_K_M.gguf", "models/tiny256/tiny256-F16.gguf",
	} {
		path := shareddata.Path(t, file)
		m, err := model.Open(path, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Memory(m)
		if err != nil {
			t.Fatal(err)
		}
		want := generate(t, m, res, 24)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := model.OpenAt(file, BytesSource(file, data), int64(len(data)), model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			slots  int
			budget int64
		}{{2, 0}, {3, 0}, {2, 1 << 30}, {100, 0}} {
			t.Run(fmt.Sprintf("%s/slots%d/out%d", file, c.slots, c.budget), func(t *testing.T) {
				var passes atomic.Int64
				src := BytesSource(file, data)
				s, err := Stream(hdr, src, StreamOptions{Slots: c.slots, OutputBudget: c.budget,
					Progress: func(done, total int64) {
						if done%total == 0 {
							passes.Add(1)
						}
					}})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				got := generate(t, hdr, s, 24)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("token %d: streamed %d, resident %d", i, got[i], want[i])
					}
				}
				// One pass for the prompt batch, one per generated token but
				// the last (sampled from the previous pass): 24 passes, unless
				// every item has its own buffer (one load).
				if c.slots < len(s.items) && passes.Load() < 24 {
					t.Errorf("%d passes over the weights, want ≥ 24", passes.Load())
				}
				if c.slots >= len(s.items) && s.Loaded() != s.PassBytes() {
					t.Errorf("all items fit, yet %d bytes loaded for a pass of %d", s.Loaded(), s.PassBytes())
				}
			})
		}
		m.Close()
	}
}

// failingSource fails every read after the first n bytes.
type failingSource struct {
	Source
	left atomic.Int64
}

func (f *failingSource) ReadAt(p []byte, off int64) (int, error) {
	if f.left.Add(-int64(len(p))) < 0 {
		return 0, errors.New("device gone")
	}
	return f.Source.ReadAt(p, off)
}

func TestStreamReadError(t *testing.T) {
	path := shareddata.Path(t, "models/gguf/stories260K.gguf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.OpenAt("m", BytesSource("m", data), int64(len(data)), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := &failingSource{Source: BytesSource("disk", data)}
	src.left.Store(400 << 10) // the resident part and a few layers
	s, err := Stream(m, src, StreamOptions{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool := kernels.NewPool(1)
	defer pool.Close()
	e, _ := llm.NewEngine(m.Config, s, pool, llm.Options{Context: 64})
	var evalErr error
	for pos := 0; pos < 20 && evalErr == nil; pos++ {
		_, evalErr = e.Eval([]int{1}, pos, false)
	}
	// The error names the source and says what failed.
	if evalErr == nil || !strings.Contains(evalErr.Error(), "disk: reading") || !strings.Contains(evalErr.Error(), "device gone") {
		t.Fatalf("after the source failed: %v", evalErr)
	}
}

// TestStrategiesOnGeneratedModel: stories260K, tiny256 and a generated
// model of a bigger shape (6 layers of 512, ~10 MB of Q4_K with Q6_K layers
// as llama-quantize mixes them, GQA, untied output) give the same tokens
// resident, streamed from a file through io_uring (O_DIRECT and buffered),
// through the pread fallback, and over HTTP.
func TestStrategiesOnGeneratedModel(t *testing.T) {
	gen := filepath.Join(t.TempDir(), "gen.gguf")
	shape := synth.Shape{Dim: 512, Hidden: 1536, Layers: 6, Heads: 8, KVHeads: 2, Vocab: 512, Context: 256, RopeBase: 10000, RMSEps: 1e-5}
	if _, err := synth.Write(gen, synth.Options{Shape: shape, Mix: "Q4_K_M", Seed: 3}); err != nil {
		t.Fatal(err)
	}
	files := []string{gen, shareddata.Path(t, "models/gguf/stories260K.gguf")}
	if p := shareddata.Find("models/tiny256/tiny256-Q4_K_M.gguf"); p != "" {
		files = append(files, p)
	}
	for _, path := range files {
		strategiesAgree(t, path)
	}
}

func strategiesAgree(t *testing.T, path string) {
	name := filepath.Base(path)
	m, err := model.Open(path, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	res, err := Memory(m)
	if err != nil {
		t.Fatal(err)
	}
	want := generate(t, m, res, 16)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	open := map[string]func() (Source, error){
		"io_uring O_DIRECT": func() (Source, error) { return OpenFile(path, FileOptions{Direct: true}) },
		"io_uring":          func() (Source, error) { return OpenFile(path, FileOptions{}) },
		"pread":             func() (Source, error) { return OpenFile(path, FileOptions{ForcePread: true}) },
		"http": func() (Source, error) {
			return OpenHTTP(srv.URL+"/"+name, HTTPOptions{Chunk: 256 << 10})
		},
	}
	for how, op := range open {
		t.Run(name+"/"+how, func(t *testing.T) {
			src, err := op()
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			hdr, err := model.OpenAt(name, src, src.Size(), model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Stream(hdr, src, StreamOptions{Slots: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := generate(t, hdr, s, 16)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("token %d: %d streamed (%s), %d resident", i, got[i], how, want[i])
				}
			}
			if len(s.items) > 4 && s.BufferBytes() >= int64(len(data))/2 { // tiny models are a few items
				t.Errorf("ring holds %d bytes of a %d-byte model", s.BufferBytes(), len(data))
			}
		})
	}
}
