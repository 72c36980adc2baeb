package llm_test

// Golden tests against the reference engines' outputs in shared/reference:
// greedy tokens and logits of llama.cpp and llama2.c's run.c on the same files.

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model"
)

type genRun struct {
	Prompt       string `json:"prompt"`
	PromptIDs    []int  `json:"prompt_ids"`
	GeneratedIDs []int  `json:"generated_ids"`
	LogitsFile   string `json:"prompt_final_logits_file"`
}

type genVariant struct {
	File        string   `json:"file"`
	Tokenizer   string   `json:"tokenizer"`
	KVCache     string   `json:"kv_cache"`
	KVCacheType string   `json:"kv_cache_type"`
	Runs        []genRun `json:"runs"`
}

type genFile struct {
	LlamaCpp map[string]genVariant `json:"llama_cpp"`
	Llama2c  genVariant            `json:"llama2c"`
}

// tolerance is the largest logit difference accepted against each reference
// variant. F32 weights with an F32 cache agree with both engines to 1.4e-5.
// The F16 variants are held to the 2e-2 (llama.cpp's F16 matrix
// products use tinyBLAS, whose summation order is not reproduced here). For
// Q8_0 and Q4_0 the kernels follow llama.cpp's x86 arithmetic step by step
// (see pkg/kernels), so the logits are equal to the bit or within a few
// ulps; 1e-4 is far tighter than the 5e-2 and catches any drift.
var tolerance = map[string]float64{
	"F32_kvF32": 1e-4, "llama2c": 1e-4, "F32": 2e-2, "F16": 2e-2, "Q8_0": 1e-4, "Q4_0": 1e-4,
}

// blockwiseTolerance replaces tolerance for a whole prompt evaluated as one
// batch on a pool set blockwise (kernels.Pool.SetBlockwise, llmboot
// --fast-prompt), for the variants with blockwise batch kernels (Q4_0,
// Q8_0, F16, and Q4_0's F16 ffn_down): their float rounding differs from
// llama.cpp's vec_dot in the last bits, and such a difference can flip
// an f16 (KV cache) or Q8_0 (activations) rounding further on, which the
// tiny reference models amplify. Measured with the F16 cache the
// references use: stories260K Q4_0 0.242, tiny256 Q8_0 0.0898, stories260K
// F16 0.0199 (1.9e-6 for stories260K Q8_0 and tiny256 Q4_0). The default
// (vec_dot) order keeps tolerance.
var blockwiseTolerance = map[string]float64{"Q4_0": 0.3, "Q8_0": 0.15, "F16": 3e-2}

// toleranceFor is variant name's logit tolerance on a pool set blockwise
// or not.
func toleranceFor(name string, blockwise bool) float64 {
	if bt, ok := blockwiseTolerance[name]; ok && blockwise {
		return bt
	}
	return tolerance[name]
}

// keepsTokens lists the variants whose greedy tokens must all match.
var keepsTokens = map[string]bool{"F32_kvF32": true, "llama2c": true, "F32": true, "F16": true, "Q8_0": true, "Q4_0": true}

func readJSON(t testing.TB, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(shareddata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func readLogits(t testing.TB, rel string) []float32 {
	t.Helper()
	b, err := os.ReadFile(shareddata.Path(t, filepath.Join("reference", rel)))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// openEngine loads a shared model file with resident weights, on a pool
// set blockwise or not (kernels.Pool.SetBlockwise).
func openEngine(t testing.TB, file, tokenizer string, kv llm.KVType, threads int, blockwise bool) *llm.Engine {
	t.Helper()
	opts := model.Options{}
	if tokenizer != "" {
		opts.TokenizerPath = shareddata.Path(t, tokenizer)
	}
	return openEngineAt(t, shareddata.Path(t, file), opts, kv, threads, blockwise)
}

// openEngineAt is openEngine for a model at path (not under shared/).
func openEngineAt(t testing.TB, path string, opts model.Options, kv llm.KVType, threads int, blockwise bool) *llm.Engine {
	t.Helper()
	m, err := model.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	w, err := loader.Memory(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	pool := kernels.NewPool(threads)
	t.Cleanup(pool.Close)
	pool.SetBlockwise(blockwise)
	e, err := llm.NewEngine(m.Config, w, pool, llm.Options{Context: 256, KVType: kv})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func kvFor(v genVariant) llm.KVType {
	if v.KVCache == "F16" || (len(v.KVCacheType) >= 3 && v.KVCacheType[:3] == "F16") {
		return llm.KVF16
	}
	return llm.KVF32
}

func TestGenerationMatchesReference(t *testing.T) {
	for _, ref := range []struct {
		json      string
		tokenizer string // for llama2.c checkpoints without their own
	}{
		{"reference/stories260K.generation.json", "models/llama2c/tok512.bin"},
		{"reference/tiny256.generation.json", "models/llama2c/tok512.bin"},
	} {
		var g genFile
		readJSON(t, ref.json, &g)
		variants := map[string]genVariant{"llama2c": g.Llama2c}
		for k, v := range g.LlamaCpp {
			variants[k] = v
		}
		for name, v := range variants {
			t.Run(filepath.Base(v.File)+"/"+name, func(t *testing.T) {
				tok := ""
				if name == "llama2c" {
					tok = ref.tokenizer
				}
				for _, blockwise := range []bool{false, true} {
					testGeneration(t, name, v, openEngine(t, v.File, tok, kvFor(v), 2, blockwise), blockwise)
				}
			})
		}
	}
}

// testGeneration evaluates each of v's prompts on e (a pool set blockwise
// or not) and checks the last position's logits and the greedy tokens.
func testGeneration(t *testing.T, name string, v genVariant, e *llm.Engine, blockwise bool) {
	tol := toleranceFor(name, blockwise)
	for _, r := range v.Runs {
		logits, err := e.Eval(r.PromptIDs, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		want := readLogits(t, r.LogitsFile)
		if len(want) != len(logits) {
			t.Fatalf("prompt %q: %d logits, reference has %d", r.Prompt, len(logits), len(want))
		}
		d := maxDiff(logits, want)
		t.Logf("blockwise %v, prompt %q: max |logit - reference| = %.3g", blockwise, r.Prompt, d)
		if d > tol {
			t.Errorf("blockwise %v, prompt %q: last-position logits differ by %.3g, tolerance %g", blockwise, r.Prompt, d, tol)
		}
		// Greedy decoding, no stop tokens, as the reference runs were made.
		var got []int
		pos := len(r.PromptIDs)
		for len(got) < len(r.GeneratedIDs) {
			id := llm.Argmax(logits)
			got = append(got, id)
			if logits, err = e.Eval([]int{id}, pos, false); err != nil {
				t.Fatal(err)
			}
			pos++
		}
		same := 0
		for same < len(got) && got[same] == r.GeneratedIDs[same] {
			same++
		}
		t.Logf("blockwise %v, prompt %q: %d of %d greedy tokens equal", blockwise, r.Prompt, same, len(got))
		if keepsTokens[name] && same != len(got) {
			t.Errorf("blockwise %v, prompt %q: token %d is %d, reference %d", blockwise, r.Prompt, same, got[same], r.GeneratedIDs[same])
		}
		if !keepsTokens[name] && same < 5 {
			t.Errorf("blockwise %v, prompt %q: only %d greedy tokens equal the reference", blockwise, r.Prompt, same)
		}
	}
}

type tfVariant struct {
	File       string `json:"file"`
	KVCache    string `json:"kv_cache"`
	LogitsFile string `json:"logits_file"`
}

type tfModel struct {
	Variants  map[string]tfVariant `json:"variants"`
	PromptIDs []int                `json:"prompt_ids"`
	Llama2c   tfVariant            `json:"llama2c"`
}

// TestTeacherForced evaluates the 32-token prompt as one batch and compares
// the logits at every position.
func TestTeacherForced(t *testing.T) {
	var tf struct {
		Models map[string]tfModel `json:"models"`
	}
	readJSON(t, "reference/teacher_forced.json", &tf)
	for mname, m := range tf.Models {
		variants := map[string]tfVariant{"llama2c": m.Llama2c}
		for k, v := range m.Variants {
			variants[k] = v
		}
		for name, v := range variants {
			t.Run(mname+"/"+name, func(t *testing.T) {
				tok := ""
				if name == "llama2c" {
					tok = "models/llama2c/tok512.bin"
				}
				kv := llm.KVF32
				if v.KVCache == "F16" {
					kv = llm.KVF16
				}
				want := readLogits(t, v.LogitsFile)
				for _, blockwise := range []bool{false, true} {
					e := openEngine(t, v.File, tok, kv, 2, blockwise)
					logits, err := e.Eval(m.PromptIDs, 0, true)
					if err != nil {
						t.Fatal(err)
					}
					if len(want) != len(logits) {
						t.Fatalf("%d logits, reference has %d", len(logits), len(want))
					}
					d := maxDiff(logits, want)
					tol := toleranceFor(name, blockwise)
					t.Logf("blockwise %v: max |logit - reference| over %d positions = %.3g", blockwise, len(m.PromptIDs), d)
					if d > tol {
						t.Errorf("blockwise %v: logits differ by %.3g, tolerance %g", blockwise, d, tol)
					}
				}
			})
		}
	}
}
