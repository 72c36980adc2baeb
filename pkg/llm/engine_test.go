package llm_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/model/synth"
)

// TestBatchEqualsSequential: evaluating the prompt as one batch (on a pool
// not set blockwise: the blockwise kernels round differently, see
// TestTeacherForced) gives the logits that evaluating it a token at a time
// gives, for every weight type:
// the shared models, and tiny256-shaped random models in the mixes that
// have no shared file (Q5_K_M, Q3_K_M, Q2_K, BF16: Q5_K, Q3_K, Q2_K and BF16
// matrices).
func TestBatchEqualsSequential(t *testing.T) {
	prompt := []int{1, 403, 407, 261, 378, 432, 383, 286, 261, 376}
	type modelFile struct{ name, path string }
	var files []modelFile
	for _, file := range []string{
		"models/gguf/stories260K.gguf", "models/gguf/stories260K-F16.gguf",
		"models/gguf/stories260K-Q8_0.gguf", "models/gguf/stories260K-Q4_0.gguf",
		"models/tiny256/tiny256-Q4_K_M.gguf", "models/tiny256/tiny256-Q6_K.gguf",
	} {
		// Without shared/ (a fresh clone) these are skipped, the
		// synthetic ones still run.
		if path := shareddata.Find(file); path != "" {
			files = append(files, modelFile{file, path})
		} else {
			t.Logf("%s: not in testdata/ or ../shared, skipped", file)
		}
	}
	dir := t.TempDir()
	for _, mix := range []synth.Mix{synth.Q5_K_M, synth.Q3_K_M, synth.Q2_K, synth.BF16} {
		path := filepath.Join(dir, "tiny256-"+string(mix)+".gguf")
		if _, err := synth.Write(path, synth.Options{Shape: synth.Presets["tiny256"], Mix: mix, Seed: 3, Threads: 2}); err != nil {
			t.Fatal(err)
		}
		files = append(files, modelFile{"synthetic " + filepath.Base(path), path})
	}
	for _, f := range files {
		for _, kv := range []llm.KVType{llm.KVF32, llm.KVF16} {
			t.Run(f.name+"/"+kv.String(), func(t *testing.T) {
				batch := openEngineAt(t, f.path, model.Options{}, kv, 2, false)
				all, err := batch.Eval(prompt, 0, true)
				if err != nil {
					t.Fatal(err)
				}
				all = append([]float32(nil), all...)
				seq := openEngineAt(t, f.path, model.Options{}, kv, 1, false)
				vocab := len(all) / len(prompt)
				for i, tok := range prompt {
					one, err := seq.Eval([]int{tok}, i, false)
					if err != nil {
						t.Fatal(err)
					}
					// Same kernels, same order of operations: equal to the last bit.
					for j, v := range one {
						if w := all[i*vocab+j]; v != w && !(math.IsNaN(float64(v)) && math.IsNaN(float64(w))) {
							t.Fatalf("position %d logit %d: sequential %v, batch %v", i, j, v, w)
						}
					}
				}
			})
		}
	}
}

func TestEvalErrors(t *testing.T) {
	e := openEngine(t, "models/gguf/stories260K.gguf", "", llm.KVF32, 1, false)
	if _, err := e.Eval(nil, 0, false); err == nil {
		t.Error("empty batch accepted")
	}
	if _, err := e.Eval([]int{1, 2}, e.Context()-1, false); err == nil {
		t.Error("batch past the context accepted")
	}
	if _, err := e.Eval([]int{512}, 0, false); err == nil {
		t.Error("token outside the vocabulary accepted")
	}
}

func TestGenerateStops(t *testing.T) {
	e := openEngine(t, "models/gguf/stories260K.gguf", "", llm.KVF32, 1, false)
	greedy := llm.SamplerParams{Temp: 0}
	var got []int
	st, err := llm.Generate(e, []int{1}, llm.GenerateOptions{MaxTokens: 10, StopEOS: -1, StopBOS: -1, Sampler: greedy},
		func(id int) error { got = append(got, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// The reference's greedy continuation of BOS (stories260K.generation.json).
	want := []int{403, 407, 261, 378, 432, 383, 286, 261, 376, 298}
	if st.Reason != llm.StopLimit || st.Generated != 10 || len(got) != 10 {
		t.Fatalf("stats %+v, %d tokens", st, len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("token %d = %d, want %d", i, got[i], want[i])
		}
	}
	// Declaring the 4th token the end of sequence stops there without emitting it.
	got = nil
	st, err = llm.Generate(e, []int{1}, llm.GenerateOptions{MaxTokens: 10, StopEOS: 378, StopBOS: -1, Sampler: greedy},
		func(id int) error { got = append(got, id); return nil })
	if err != nil || st.Reason != llm.StopEOS || len(got) != 3 || st.Generated != 4 {
		t.Errorf("EOS stop: %+v %v %v", st, got, err)
	}
	// A prompt that fills the context is refused.
	if _, err := llm.Generate(e, make([]int, e.Context()), llm.GenerateOptions{}, nil); err == nil {
		t.Error("prompt as long as the context accepted")
	}
}
