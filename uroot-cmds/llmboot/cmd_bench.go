package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/loader"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/tensor"
)

const benchSynopsis = "bench MODEL [-t N] [-p 128] [-n 64] [-r 3] [--json] [--cache-type f32|f16] [--no-warmup] [--membw] [--cpuprofile FILE]\n       llmboot bench --membw [-t N] [--json]"

// benchResult is one test of `llmboot bench --json`, one JSON object per
// line. Field names follow llama-bench's JSON output where one exists.
//
//	test                    "pp128" (a 128-token prompt as one batch), "tg64" (64 tokens one at a time)
//	model, file_size        the model path and its file size in bytes
//	model_size              bytes of all its tensors (llama-bench's "size")
//	model_n_params          parameters
//	model_type              tensor types and counts, most common first: "Q4_0 155, F32 45, Q6_K 1"
//	n_threads, n_prompt, n_gen, n_ctx, kv_type, repetitions
//	samples_ns, samples_ts  each repetition: its time in ns, its tokens/s
//	avg_ts, median_ts, min_ts, max_ts, stddev_ts   tokens/s over the repetitions (stddev: sample, n-1)
//	weight_bytes_per_token  tensor bytes one forward pass reads: every layer tensor, output norm,
//	                        output (the embedding when tied) and one embedding row
//	weight_gbps             weight_bytes_per_token × forward passes per second at the median
//	                        (pp: one pass per batch, so tok/s ÷ n_prompt), in GB/s (1e9 bytes)
//	warmup_s                seconds of the warm-up (0 with --no-warmup)
//	load_avg                /proc/loadavg's 1, 5 and 15 minute averages before loading (null elsewhere)
//	go_version, goarch, num_cpu, time (RFC 3339, at the start)
type benchResult struct {
	Test          string    `json:"test"`
	Model         string    `json:"model"`
	FileSize      int64     `json:"file_size"`
	ModelSize     int64     `json:"model_size"`
	Params        int64     `json:"model_n_params"`
	ModelType     string    `json:"model_type"`
	Threads       int       `json:"n_threads"`
	NPrompt       int       `json:"n_prompt"`
	NGen          int       `json:"n_gen"`
	NCtx          int       `json:"n_ctx"`
	KVType        string    `json:"kv_type"`
	Reps          int       `json:"repetitions"`
	SamplesNS     []int64   `json:"samples_ns"`
	SamplesTS     []float64 `json:"samples_ts"`
	AvgTS         float64   `json:"avg_ts"`
	MedianTS      float64   `json:"median_ts"`
	MinTS         float64   `json:"min_ts"`
	MaxTS         float64   `json:"max_ts"`
	StddevTS      float64   `json:"stddev_ts"`
	WeightBytes   int64     `json:"weight_bytes_per_token"`
	WeightGBps    float64   `json:"weight_gbps"`
	WarmupSeconds float64   `json:"warmup_s"`
	LoadSeconds   float64   `json:"load_s"`
	Repacked      int64     `json:"repacked_bytes"` // bytes repacked at load (Q4_0/Q8_0 by row quads, Q3_K-Q6_K lane-major)
	KernelPath    string    `json:"kernels"`
	FastPrompt    bool      `json:"fast_prompt"` // --fast-prompt: blockwise batch kernels
	LoadAvg       []float64 `json:"load_avg"`
	GoVersion     string    `json:"go_version"`
	GoArch        string    `json:"goarch"`
	NumCPU        int       `json:"num_cpu"`
	Time          string    `json:"time"`
}

// membwResult is the --membw probe's JSON line: the read bandwidth of
// summing a buffer of bytes on n_threads threads, median and best of the
// passes, in GB/s.
type membwResult struct {
	Test     string    `json:"test"` // "membw"
	Threads  int       `json:"n_threads"`
	Bytes    int64     `json:"bytes"`
	Passes   int       `json:"passes"`
	MedianGB float64   `json:"median_gbps"`
	MaxGB    float64   `json:"max_gbps"`
	LoadAvg  []float64 `json:"load_avg"`
	Time     string    `json:"time"`
}

type benchFlags struct {
	threads, p, n, reps int
	json, noWarmup      bool
	membw               bool
	membwMiB            int
	cacheType           string
	tokenizer           string
	noRepack            bool
	fastPrompt          bool
	cpuProfile          string
}

func cmdBench(args []string, stdout, stderr io.Writer) error {
	var f benchFlags
	fs := newFlagSet("bench", benchSynopsis, stderr)
	fs.IntVar(&f.threads, "t", runtime.NumCPU(), "threads for matrix work")
	fs.IntVar(&f.threads, "threads", runtime.NumCPU(), "same as -t")
	fs.IntVar(&f.p, "p", 128, "prompt tokens evaluated as one batch (0: no prompt test)")
	fs.IntVar(&f.p, "n-prompt", 128, "same as -p")
	fs.IntVar(&f.n, "n", 64, "tokens generated one at a time (0: no generation test)")
	fs.IntVar(&f.n, "n-gen", 64, "same as -n")
	fs.IntVar(&f.reps, "r", 3, "repetitions of each test")
	fs.IntVar(&f.reps, "repetitions", 3, "same as -r")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per test, named as llama-bench's where it has them: test (pp128, tg64),\n"+
		"median_ts avg_ts min_ts max_ts stddev_ts samples_ts samples_ns (tokens/s, ns), weight_bytes_per_token,\n"+
		"weight_gbps, model model_size file_size model_n_params model_type, n_threads n_prompt n_gen n_ctx kv_type\n"+
		"repetitions warmup_s load_s repacked_bytes kernels fast_prompt, load_avg, go_version goarch num_cpu time; --membw lines:\n"+
		"test membw, n_threads, bytes, passes, median_gbps, max_gbps, load_avg, time")
	fs.BoolVar(&f.noWarmup, "no-warmup", false, "skip the warm-up run")
	fs.BoolVar(&f.membw, "membw", false, "also measure memory read bandwidth (summing a buffer on 1 and -t threads)")
	fs.IntVar(&f.membwMiB, "membw-mib", 1024, "size of the --membw buffer in MiB")
	fs.StringVar(&f.cacheType, "cache-type", "f32", "KV cache element type: f32 or f16")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "llama2.c tokenizer.bin (default: tokenizer.bin beside a .bin model)")
	fs.BoolVar(&f.fastPrompt, "fast-prompt", false, fastPromptUsage)
	fs.BoolVar(&f.noRepack, "no-repack", false, "keep every matrix in the file's layout (default: Q4_0/Q8_0 interleaved by row quads, Q3_K-Q6_K levels lane-major, at load)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the timed repetitions (not load or warm-up) to this file, for `go tool pprof`")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0 && f.membw:
	default:
		if err := positional(pos, "MODEL"); err != nil {
			fs.Usage()
			return err
		}
	}
	switch {
	case f.threads < 1:
		return usagef("-t %d: need at least one thread", f.threads)
	case f.p < 0 || f.n < 0:
		return usagef("-p %d -n %d: cannot be negative", f.p, f.n)
	case f.reps < 1:
		return usagef("-r %d: need at least one repetition", f.reps)
	case f.membwMiB < 1:
		return usagef("--membw-mib %d: need at least 1", f.membwMiB)
	case len(pos) == 1 && f.p == 0 && f.n == 0:
		return usagef("-p 0 -n 0: nothing to measure")
	}
	kvType, err := llm.ParseKVType(f.cacheType)
	if err != nil {
		return usageError{err.Error()}
	}
	enc := json.NewEncoder(stdout)
	if f.membw {
		if err := benchMembw(f, stdout, enc); err != nil {
			return err
		}
	}
	if len(pos) == 0 {
		return nil
	}
	return benchModel(pos[0], f, kvType, stdout, stderr, enc)
}

func benchModel(path string, f benchFlags, kvType llm.KVType, stdout, stderr io.Writer, enc *json.Encoder) error {
	// The profile's file first: a bad path fails before minutes of loading.
	// If the run fails before profiling starts, the empty file goes.
	var profile *os.File
	profiling := false
	if f.cpuProfile != "" {
		var err error
		if profile, err = os.Create(f.cpuProfile); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer func() {
			if !profiling {
				profile.Close()
				os.Remove(profile.Name())
			}
		}()
	}
	// Before loading: the machine is shared, so say how busy it was.
	loadAvg := loadAverage()
	started := time.Now()
	m, err := model.Open(path, model.Options{TokenizerPath: f.tokenizer})
	if err != nil {
		return err
	}
	defer m.Close()
	w, err := loader.MemoryWith(m, loader.MemoryOptions{RowMajor: f.noRepack})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer w.Close()
	pool := kernels.NewPool(f.threads)
	defer pool.Close()
	pool.SetBlockwise(f.fastPrompt)
	ctx := max(f.p, f.n, 1)
	eng, err := llm.NewEngine(m.Config, w, pool, llm.Options{Context: ctx, KVType: kvType})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	loadTime := time.Since(started)

	size, params, perToken := weightBytes(m)
	base := benchResult{
		Model: path, FileSize: m.FileSize, ModelSize: size, Params: params, ModelType: modelTypes(m),
		Threads: f.threads, NCtx: ctx, KVType: kvType.String(), Reps: f.reps, WeightBytes: perToken,
		LoadAvg: loadAvg, GoVersion: runtime.Version(), GoArch: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		LoadSeconds: loadTime.Seconds(), Repacked: w.Repacked, KernelPath: kernels.PathLabel(), FastPrompt: f.fastPrompt,
		Time: started.Format(time.RFC3339),
	}
	// Token ids as llama-bench feeds them: random, no sampling in the loop.
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := make([]int, max(f.p, f.n))
	for i := range tokens {
		tokens[i] = rng.IntN(m.Config.Vocab)
	}
	prompt := func() error { _, err := eng.Eval(tokens[:f.p], 0, false); return err }
	gen := func(n int) error {
		for i := 0; i < n; i++ {
			if _, err := eng.Eval(tokens[i:i+1], i, false); err != nil {
				return err
			}
		}
		return nil
	}

	// Warm-up as llama-bench: a prompt run and one generated token. It
	// also brings the weights in from the file.
	var warmup time.Duration
	if !f.noWarmup {
		t0 := time.Now()
		if f.p > 0 {
			if err := prompt(); err != nil {
				return err
			}
		}
		if f.n > 0 {
			if err := gen(1); err != nil {
				return err
			}
		}
		warmup = time.Since(t0)
	}
	base.WarmupSeconds = warmup.Seconds()

	if profile != nil {
		stop, err := startCPUProfile(profile)
		if err != nil {
			return err
		}
		profiling = true
		defer stop()
	}
	var results []benchResult
	for _, test := range []struct {
		name    string
		p, n    int
		tokens  int
		run     func() error
		perPass int // tokens per forward pass
	}{
		{fmt.Sprintf("pp%d", f.p), f.p, 0, f.p, prompt, max(f.p, 1)},
		{fmt.Sprintf("tg%d", f.n), 0, f.n, f.n, func() error { return gen(f.n) }, 1},
	} {
		if test.tokens == 0 {
			continue
		}
		r := base
		r.Test, r.NPrompt, r.NGen = test.name, test.p, test.n
		for i := 0; i < f.reps; i++ {
			t0 := time.Now()
			if err := test.run(); err != nil {
				return fmt.Errorf("%s: %w", test.name, err)
			}
			d := time.Since(t0)
			r.SamplesNS = append(r.SamplesNS, d.Nanoseconds())
			r.SamplesTS = append(r.SamplesTS, float64(test.tokens)/d.Seconds())
		}
		r.AvgTS, r.MedianTS, r.MinTS, r.MaxTS, r.StddevTS = summarize(r.SamplesTS)
		r.WeightGBps = float64(perToken) * r.MedianTS / float64(test.perPass) / 1e9
		results = append(results, r)
	}

	if f.json {
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(stdout, "model: %s, %s file, %s of tensors, %.3g params\n", path, loader.FormatBytes(m.FileSize), loader.FormatBytes(size), float64(params))
	fmt.Fprintf(stdout, "types: %s\n", base.ModelType)
	promptOrder := "vec_dot-order prompts"
	if f.fastPrompt {
		promptOrder = "blockwise prompts (--fast-prompt)"
	}
	fmt.Fprintf(stdout, "threads %d, context %d, KV cache %s, %s kernels, %s, loaded in %s (%s repacked), warm-up %s\n",
		f.threads, ctx, kvType, kernels.PathLabel(), promptOrder, round(loadTime), loader.FormatBytes(w.Repacked), round(warmup))
	fmt.Fprintf(stdout, "load average at start: %s\n", formatLoadAvg(loadAvg))
	fmt.Fprintf(stdout, "weights read per forward pass: %s (%.3f GB)\n", loader.FormatBytes(perToken), float64(perToken)/1e9)
	fmt.Fprintf(stdout, "\n| %-7s | %12s | %10s | %10s | %8s | %11s |\n", "test", "t/s median", "min", "max", "stddev", "weight GB/s")
	fmt.Fprintf(stdout, "|%s|%s:|%s:|%s:|%s:|%s:|\n", strings.Repeat("-", 9), strings.Repeat("-", 13), strings.Repeat("-", 11), strings.Repeat("-", 11), strings.Repeat("-", 9), strings.Repeat("-", 12))
	for _, r := range results {
		fmt.Fprintf(stdout, "| %-7s | %12.2f | %10.2f | %10.2f | %8.2f | %11.2f |\n", r.Test, r.MedianTS, r.MinTS, r.MaxTS, r.StddevTS, r.WeightGBps)
	}
	fmt.Fprintf(stdout, "\n%d repetitions each\n", f.reps)
	return nil
}

// weightBytes sums the model's tensor bytes and parameters, and the bytes one
// forward pass reads: everything but the embedding table, of which it reads
// one row per token (and all of it as the classifier when output is tied).
func weightBytes(m *model.Model) (size, params, perToken int64) {
	var embd model.Tensor
	tied := true
	for _, t := range m.Tensors {
		b := tensorBytes(t)
		size += b
		params += int64(t.Elements())
		switch t.Name {
		case model.TokenEmbd:
			embd = t
		case model.Output:
			tied = false
			perToken += b
		default:
			perToken += b
		}
	}
	if embd.Shape != nil {
		eb := tensorBytes(embd)
		perToken += eb / int64(max(embd.Rows(), 1))
		if tied {
			perToken += eb
		}
	}
	return size, params, perToken
}

func tensorBytes(t model.Tensor) int64 {
	rb, err := t.Type.RowBytes(t.Cols())
	if err != nil {
		return int64(len(t.Data))
	}
	return int64(rb) * int64(t.Rows())
}

// modelTypes lists tensor types with their counts, most common first.
func modelTypes(m *model.Model) string {
	counts := map[tensor.Type]int{}
	for _, tc := range m.TypeCounts() {
		counts[tc.Type] = tc.Count
	}
	return typeMix(counts)
}

// summarize returns the mean, median, min, max and sample standard
// deviation of xs (len ≥ 1).
func summarize(xs []float64) (mean, median, lo, hi, stddev float64) {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	lo, hi = s[0], s[n-1]
	if n%2 == 1 {
		median = s[n/2]
	} else {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	for _, x := range s {
		mean += x
	}
	mean /= float64(n)
	if n > 1 {
		for _, x := range s {
			stddev += (x - mean) * (x - mean)
		}
		stddev = math.Sqrt(stddev / float64(n-1))
	}
	return mean, median, lo, hi, stddev
}

// loadAverage reads the 1, 5 and 15 minute load averages; nil where
// /proc/loadavg does not exist.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	fields := strings.Fields(string(b))
	if len(fields) < 3 {
		return nil
	}
	var l []float64
	for _, s := range fields[:3] {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		l = append(l, x)
	}
	return l
}

func formatLoadAvg(l []float64) string {
	if l == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.2f %.2f %.2f (1, 5, 15 min)", l[0], l[1], l[2])
}

// benchMembw measures read bandwidth on 1 thread and on -t threads.
func benchMembw(f benchFlags, stdout io.Writer, enc *json.Encoder) error {
	const passes = 5
	size := int64(f.membwMiB) << 20
	buf, free, err := loader.BandwidthBuffer(int(size / 4))
	if err != nil {
		return fmt.Errorf("--membw: %d MiB buffer: %w", f.membwMiB, err)
	}
	defer free()
	threadCounts := []int{1}
	if f.threads > 1 {
		threadCounts = append(threadCounts, f.threads)
	}
	for _, th := range threadCounts {
		loadAvg := loadAverage()
		start := time.Now()
		median, best, err := loader.ReadBandwidth(buf, th, passes)
		if err != nil {
			return err
		}
		r := membwResult{Test: "membw", Threads: th, Bytes: size, Passes: passes, MedianGB: median, MaxGB: best,
			LoadAvg: loadAvg, Time: start.Format(time.RFC3339)}
		if f.json {
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(stdout, "memory read bandwidth, %d thread(s), %s buffer: %.1f GB/s median, %.1f GB/s best of %d (load average %s)\n",
			th, loader.FormatBytes(size), median, best, passes, formatLoadAvg(loadAvg))
	}
	return nil
}

// startCPUProfile profiles into out until the returned function runs,
// which writes the profile and closes out.
func startCPUProfile(out *os.File) (stop func(), err error) {
	if err := pprof.StartCPUProfile(out); err != nil {
		return nil, fmt.Errorf("--cpuprofile %s: %w", out.Name(), err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "llmboot: --cpuprofile %s: %v\n", out.Name(), err)
		}
	}, nil
}
