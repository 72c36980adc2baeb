package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model/synth"
	"github.com/llmboot/llmboot/pkg/tensor"
)

const genModelSynopsis = "gen-model [--preset NAME] [--type F16|Q8_0|Q4_0|Q4_K_M|Q6_K|Q5_K_M|Q3_K_M|Q2_K|BF16|F32] [--dim N --hidden N --layers N --heads N --kv-heads N --vocab N --ctx N] [--seed S] [--vocab-from FILE.gguf|auto|none] [-t THREADS] OUT.gguf"

// llama2VocabFiles are where --vocab-from auto looks for the Llama 2
// vocabulary: the repository's copy (run from the repository root) and
// the shared reference folder.
var llama2VocabFiles = []string{
	"testdata/models/vocab/ggml-vocab-llama-spm.gguf",
	"../shared/models/vocab/ggml-vocab-llama-spm.gguf",
}

func cmdGenModel(args []string, stdout, stderr io.Writer) error {
	var (
		preset, typ, vocabFrom string
		seed                   uint64
		threads                int
		std                    float64
		over                   synth.Shape
	)
	fs := newFlagSet("gen-model", genModelSynopsis, stderr)
	fs.StringVar(&preset, "preset", synth.DefaultPreset, "model shape: "+strings.Join(synth.PresetNames(), ", "))
	fs.StringVar(&typ, "type", string(synth.Q4_0), "weight types, as llama-quantize mixes them: F16, Q8_0, Q4_0, Q4_K_M, Q6_K, Q5_K_M, Q3_K_M, Q2_K, BF16, F32")
	fs.IntVar(&over.Dim, "dim", 0, "embedding length (0: the preset's)")
	fs.IntVar(&over.Hidden, "hidden", 0, "feed-forward length (0: the preset's)")
	fs.IntVar(&over.Layers, "layers", 0, "blocks (0: the preset's)")
	fs.IntVar(&over.Heads, "heads", 0, "attention heads (0: the preset's)")
	fs.IntVar(&over.KVHeads, "kv-heads", 0, "key/value heads (0: the preset's)")
	fs.IntVar(&over.Vocab, "vocab", 0, "vocabulary size (0: the preset's, or the --vocab-from file's)")
	fs.IntVar(&over.Context, "ctx", 0, "training context length (0: the preset's)")
	fs.Uint64Var(&seed, "seed", 1, "random seed; the same seed writes the same file")
	fs.Float64Var(&std, "std", 0.02, "standard deviation of the weights")
	fs.StringVar(&vocabFrom, "vocab-from", "auto", "copy the tokenizer of this GGUF file; auto: the Llama 2 vocabulary\nfrom "+llama2VocabFiles[0]+" when the vocabulary has 32000 tokens and the file is there;\nnone: a synthetic vocabulary (byte tokens and placeholders)")
	fs.IntVar(&threads, "t", runtime.NumCPU(), "threads quantizing rows")
	fs.IntVar(&threads, "threads", runtime.NumCPU(), "same as -t")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := positional(pos, "OUT.gguf"); err != nil {
		fs.Usage()
		return err
	}
	out := pos[0]
	shape, ok := synth.Presets[preset]
	if !ok {
		return usagef("--preset %q: unknown (known: %s)", preset, strings.Join(synth.PresetNames(), ", "))
	}
	mix, err := synth.ParseMix(typ)
	if err != nil {
		return usageError{err.Error()}
	}
	for _, o := range []struct {
		name string
		v    int
		dst  *int
	}{
		{"dim", over.Dim, &shape.Dim}, {"hidden", over.Hidden, &shape.Hidden}, {"layers", over.Layers, &shape.Layers},
		{"heads", over.Heads, &shape.Heads}, {"kv-heads", over.KVHeads, &shape.KVHeads}, {"ctx", over.Context, &shape.Context},
	} {
		if o.v < 0 {
			return usagef("--%s %d: cannot be negative", o.name, o.v)
		}
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if over.Vocab < 0 {
		return usagef("--vocab %d: cannot be negative", over.Vocab)
	}
	if over.Vocab > 0 {
		shape.Vocab = over.Vocab
	}
	vocab, err := genModelVocab(vocabFrom, shape.Vocab, over.Vocab > 0)
	if err != nil {
		return err
	}
	if vocab != nil {
		shape.Vocab = vocab.Size
	}
	if err := shape.Validate(); err != nil {
		return usageError{err.Error()}
	}
	if threads < 1 {
		return usagef("-t %d: need at least one thread", threads)
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("gen-model: %w", err)
		}
	}

	vocabName := "synthetic"
	if vocab != nil {
		vocabName = vocab.Source
	}
	fmt.Fprintf(stderr, "gen-model: %s %s: dim %d, hidden %d, %d layers, %d/%d heads, vocab %d (%s), ctx %d, seed %d, %d threads\n",
		preset, mix, shape.Dim, shape.Hidden, shape.Layers, shape.Heads, shape.KVHeads, shape.Vocab, vocabName, shape.Context, seed, threads)
	start := time.Now()
	lastPct := -1
	res, err := synth.Write(out, synth.Options{
		Shape: shape, Mix: mix, Seed: seed, Std: std, Vocab: vocab, Threads: threads,
		Name: fmt.Sprintf("synthetic-%s-%s", preset, mix),
		Progress: func(name string, done, total uint64) {
			// One line per tenth of the data: a 1.1B model takes minutes.
			if pct := int(done * 10 / max(total, 1)); pct > lastPct {
				lastPct = pct
				fmt.Fprintf(stderr, "gen-model: %3d%% %s (%s)\n", pct*10, name, round(time.Since(start)))
			}
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s %s, %d tensors (%s), tensor data %d B, file %d B (%s), written in %s\n",
		out, preset, mix, len(res.Tensors), typeMix(synth.TypeCounts(res.Tensors)), res.DataBytes, res.FileBytes,
		loader.FormatBytes(res.FileBytes), round(time.Since(start)))
	return nil
}

// genModelVocab resolves --vocab-from: nil means a synthetic vocabulary.
func genModelVocab(from string, size int, sizeGiven bool) (*synth.Vocab, error) {
	switch from {
	case "none", "":
		return nil, nil
	case "auto":
		if size != 32000 {
			return nil, nil
		}
		for _, p := range llama2VocabFiles {
			if _, err := os.Stat(p); err == nil {
				return synth.VocabFrom(p)
			}
		}
		return nil, nil
	}
	v, err := synth.VocabFrom(from)
	if err != nil {
		return nil, err
	}
	if sizeGiven && v.Size != size {
		return nil, usagef("--vocab %d, but %s has %d tokens", size, from, v.Size)
	}
	return v, nil
}

// typeMix formats tensor counts per type, most common first: "Q4_K 135, Q6_K 21, F32 45".
func typeMix(counts map[tensor.Type]int) string {
	type tc struct {
		t tensor.Type
		n int
	}
	var l []tc
	for t, n := range counts {
		l = append(l, tc{t, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].t.String() < l[j].t.String()
	})
	var parts []string
	for _, x := range l {
		parts = append(parts, fmt.Sprintf("%s %d", x.t, x.n))
	}
	return strings.Join(parts, ", ")
}
