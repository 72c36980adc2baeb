package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model"
)

const runSynopsis = "run MODEL [-p PROMPT] [-n N] [-t THREADS] [-c CTX] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--tokenizer FILE]"

// fastPromptUsage is --fast-prompt's help, for run and bench alike.
const fastPromptUsage = "evaluate Q4_0, Q8_0 and F16 prompts with the blockwise kernels: 1.05-2.5x faster, but logits no longer those of a token at a time (llama.cpp's vec_dot order) to the bit"

type runFlags struct {
	prompt        string
	n             int
	threads       int
	ctx           int
	sampler       llm.SamplerParams
	seed          int64
	tokenizer     string
	cacheType     string
	noPrompt      bool
	strategy      string
	memLimit      string
	explain       bool
	quiet         bool
	sha           string
	direct        bool
	noRepack      bool
	fastPrompt    bool
	topK          int
	repeatLastN   int
	temp, topP    float64
	minP, penalty float64
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	d := llm.DefaultSampler()
	fs := newFlagSet("run", runSynopsis, stderr)
	fs.StringVar(&f.prompt, "p", "", "prompt text")
	fs.StringVar(&f.prompt, "prompt", "", "prompt text (same as -p)")
	fs.IntVar(&f.n, "n", -1, "tokens to generate; -1 runs until end of sequence or a full context.\nFor llama2.c checkpoints, as run.c's -n: the total sequence length, prompt included")
	fs.IntVar(&f.n, "n-predict", -1, "same as -n")
	fs.IntVar(&f.threads, "t", runtime.NumCPU(), "threads for matrix work")
	fs.IntVar(&f.threads, "threads", runtime.NumCPU(), "same as -t")
	fs.IntVar(&f.ctx, "c", 0, "context size in tokens (0: the model's)")
	fs.IntVar(&f.ctx, "ctx-size", 0, "same as -c")
	fs.Float64Var(&f.temp, "temp", float64(d.Temp), "temperature; 0 is greedy")
	fs.IntVar(&f.topK, "top-k", d.TopK, "keep the K most likely tokens (0: off)")
	fs.Float64Var(&f.topP, "top-p", float64(d.TopP), "keep the smallest set of tokens with probability ≥ P (1: off)")
	fs.Float64Var(&f.minP, "min-p", float64(d.MinP), "drop tokens less likely than P × the most likely one (0: off)")
	fs.Float64Var(&f.penalty, "repeat-penalty", float64(d.RepeatPenalty), "penalise recently seen tokens (1: off)")
	fs.IntVar(&f.repeatLastN, "repeat-last-n", d.RepeatLastN, "how many recent tokens the repeat penalty considers (-1: all)")
	fs.Int64Var(&f.seed, "seed", -1, "random seed (-1: a random one, printed in the summary)")
	fs.Int64Var(&f.seed, "s", -1, "same as --seed")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside a .bin model)")
	fs.StringVar(&f.cacheType, "cache-type", "f32", "KV cache element type: f32 or f16 (llama.cpp's default)")
	fs.BoolVar(&f.noPrompt, "no-display-prompt", false, "do not echo the prompt")
	fs.StringVar(&f.strategy, "strategy", "auto", "how weights reach the kernels: auto, memory, nvme (stream from a file or device), network (stream from HTTP)")
	fs.StringVar(&f.memLimit, "mem-limit", "", "memory the model may use, e.g. 512M (default: what the system has available)")
	fs.BoolVar(&f.explain, "explain", false, "print each feasible plan with its estimated speed and why the chosen one won")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines while loading")
	fs.StringVar(&f.sha, "sha256", "", "expected sha256 of the model file (default: MODEL.sha256 beside a local file, if present)")
	fs.BoolVar(&f.direct, "direct", true, "O_DIRECT reads when streaming from a file or device")
	fs.BoolVar(&f.fastPrompt, "fast-prompt", false, fastPromptUsage)
	fs.BoolVar(&f.noRepack, "no-repack", false, "keep resident matrices in the file's layout (default: Q4_0/Q8_0 interleaved by row quads, Q3_K-Q6_K levels lane-major, at load; faster)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := positional(pos, "MODEL"); err != nil {
		fs.Usage()
		return err
	}
	if f.threads < 1 {
		return usagef("-t %d: need at least one thread", f.threads)
	}
	if f.ctx < 0 {
		return usagef("-c %d: context size cannot be negative", f.ctx)
	}
	kvType, err := llm.ParseKVType(f.cacheType)
	if err != nil {
		return usageError{err.Error()}
	}
	seed := uint64(f.seed)
	if f.seed < 0 {
		seed = rand.Uint64() >> 1
	}
	f.sampler = llm.SamplerParams{Temp: float32(f.temp), TopK: f.topK, TopP: float32(f.topP), MinP: float32(f.minP),
		RepeatPenalty: float32(f.penalty), RepeatLastN: f.repeatLastN, Seed: seed}

	strategy, err := loader.ParseStrategy(f.strategy)
	if err != nil {
		return usageError{err.Error()}
	}
	var memLimit int64
	if f.memLimit != "" {
		if memLimit, err = loader.ParseSize(f.memLimit); err != nil {
			return usageError{"--mem-limit: " + err.Error()}
		}
	}
	sha := f.sha
	if sha == "" && !loader.IsURL(pos[0]) {
		sha = loader.SHA256Beside(pos[0])
	}
	opts := loader.Options{Strategy: strategy, MemLimit: memLimit, TokenizerPath: f.tokenizer, SHA256: sha, Direct: f.direct, RowMajor: f.noRepack,
		KVBytes: func(c model.Config) int64 {
			n := int64(f.ctx)
			if n == 0 {
				n = int64(c.Context)
			}
			per := int64(4)
			if kvType == llm.KVF16 {
				per = 2
			}
			return 2 * per * int64(c.Layers) * n * int64(c.KVDim())
		},
		Log: func(msg string) { fmt.Fprintf(stderr, "llmboot: %s\n", msg) },
	}
	if f.explain {
		opts.Explain = stderr
	}
	if !f.quiet {
		opts.Progress = stderr
	}

	start := time.Now()
	ld, err := loader.Open(pos[0], opts)
	if err != nil {
		return err
	}
	defer ld.Close()
	m := ld.Model
	if m.Tokenizer == nil {
		return fmt.Errorf("%s has no tokenizer: name a tokenizer.bin with --tokenizer", pos[0])
	}
	pool := kernels.NewPool(f.threads)
	defer pool.Close()
	pool.SetBlockwise(f.fastPrompt)
	ctx := f.ctx
	if ctx == 0 {
		ctx = m.Config.Context
	}
	eng, err := llm.NewEngine(m.Config, ld.Weights, pool, llm.Options{Context: ctx, KVType: kvType})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	loadTime := time.Since(start)

	tok := m.Tokenizer
	v := tok.Vocab()
	var prompt []int
	gen := llm.GenerateOptions{MaxTokens: f.n, StopEOS: v.EOS, StopBOS: -1, Sampler: f.sampler}
	if m.Format == model.FormatLlama2c {
		// run.c: its own encoder, no special tokens, stop on BOS, and -n
		// counts every position (prompt included).
		prompt = tok.EncodeLlama2c(f.prompt, true, false)
		gen.StopEOS, gen.StopBOS = -1, v.BOS
		// run.c runs forward at positions [0, n) and samples after each
		// one, so it generates n - prompt + 1 tokens.
		if f.n > 0 {
			gen.MaxTokens = max(f.n-len(prompt)+1, 0)
		}
	} else {
		prompt = tok.Encode(f.prompt, v.AddBOS, true)
		if len(prompt) == 0 && v.BOS >= 0 {
			prompt = []int{v.BOS}
		}
	}
	if len(prompt) >= ctx {
		return fmt.Errorf("prompt is %d tokens, longer than the context of %d (raise -c)", len(prompt), ctx)
	}

	out := bufio.NewWriter(stdout)
	// The SentencePiece space of the first piece after BOS is dropped on
	// screen, as run.c does (llama.cpp's token pieces keep it; its CLI prints
	// the prompt as typed).
	dec := tok.NewDecoder()
	dec.StripLeadingSpace = true
	// The prompt is echoed once it has been evaluated, with the first token:
	// loading progress (stderr) ends during that pass, and on a serial
	// console, where both streams meet, it must not cut the text.
	echoed := false
	echo := func() {
		if echoed {
			return
		}
		echoed = true
		for _, id := range prompt {
			// The decoder needs what came before the first generated token
			// even when the prompt is not shown.
			if s := dec.Add(id); !f.noPrompt {
				out.WriteString(s)
			}
		}
	}
	stats, genErr := llm.Generate(eng, prompt, gen, func(id int) error {
		echo()
		out.WriteString(dec.Add(id))
		return out.Flush()
	})
	echo()
	out.WriteString(dec.Flush())
	out.WriteString("\n")
	if err := out.Flush(); err != nil && genErr == nil {
		genErr = err
	}
	if genErr != nil {
		return genErr
	}
	repacked := ""
	if r, ok := ld.Weights.(*loader.Resident); ok && r.Repacked > 0 {
		repacked = fmt.Sprintf(", %s repacked for the kernels", loader.FormatBytes(r.Repacked))
	}
	fmt.Fprintf(stderr, "\nllmboot: %s: %s, %s, %s strategy (%s%s), loaded in %s\n", pos[0], m.Format, loader.FormatBytes(m.FileSize), ld.Plan.Strategy, ld.Source, repacked, round(loadTime))
	fmt.Fprintf(stderr, "llmboot: prompt: %d tokens in %s (%s)\n", stats.PromptTokens, round(stats.PromptTime), rate(stats.PromptTokens, stats.PromptTime))
	fmt.Fprintf(stderr, "llmboot: generated: %d tokens in %s (%s), stopped: %s\n", stats.Generated, round(stats.GenTime), rate(stats.Generated, stats.GenTime), stats.Reason)
	kernelsUsed := kernels.PathLabel() + " kernels"
	if f.fastPrompt {
		kernelsUsed += ", blockwise prompts"
	}
	fmt.Fprintf(stderr, "llmboot: threads %d, %s, context %d, KV cache %s %s, seed %d\n", f.threads, kernelsUsed, ctx, kvType, loader.FormatBytes(eng.KVBytes()), seed)
	if note := kernels.PathNote(); note != "" {
		fmt.Fprintf(stderr, "llmboot: %s\n", note)
	}
	return nil
}

func rate(n int, d time.Duration) string {
	if n == 0 || d <= 0 {
		return "- tok/s"
	}
	return fmt.Sprintf("%.1f tok/s", float64(n)/d.Seconds())
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
