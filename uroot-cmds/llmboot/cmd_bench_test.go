package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model"
)

func TestBenchText(t *testing.T) {
	m := shareddata.Path(t, "models/gguf/stories260K.gguf")
	out, _, err := runCmd("bench", m, "-t", "1", "-p", "8", "-n", "4", "-r", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"types: F32 48", "threads 1, context 8, KV cache f32", "load average at start: ",
		"weights read per forward pass: ", "| test ", "| pp8 ", "| tg4 ", "2 repetitions each", "vec_dot-order prompts",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// --fast-prompt says so, in the text and the JSON.
	q := shareddata.Path(t, "models/gguf/stories260K-Q4_0.gguf")
	out, _, err = runCmd("bench", q, "-t", "1", "-p", "8", "-n", "0", "-r", "1", "--fast-prompt")
	if err != nil || !strings.Contains(out, "blockwise prompts (--fast-prompt)") {
		t.Errorf("--fast-prompt: %v\n%s", err, out)
	}
	out, _, err = runCmd("bench", q, "-t", "1", "-p", "8", "-n", "0", "-r", "1", "--fast-prompt", "--json")
	var r benchResult
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || !r.FastPrompt || r.Test != "pp8" {
		t.Errorf("--fast-prompt --json: %v %+v\n%s", err, r, out)
	}
}

// TestBenchJSON checks every documented field of the JSON lines and the
// arithmetic behind them.
func TestBenchJSON(t *testing.T) {
	path := shareddata.Path(t, "models/gguf/stories260K.gguf")
	out, _, err := runCmd("bench", path, "-t", "2", "-p", "6", "-n", "3", "-r", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one JSON object per test (2):\n%s", len(lines), out)
	}
	m, err := model.Open(path, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// stories260K.gguf: all F32, its own output.weight; a pass reads all
	// tensors but the embedding table, plus one row of it.
	var all int64
	for _, tn := range m.Tensors {
		all += int64(len(tn.Data))
	}
	embd, _ := m.Tensor(model.TokenEmbd)
	perToken := all - int64(len(embd.Data)) + int64(len(embd.Data)/m.Config.Vocab)

	wantKeys := []string{"avg_ts", "file_size", "goarch", "go_version", "kv_type", "load_avg", "max_ts", "median_ts", "min_ts",
		"model", "model_n_params", "model_size", "model_type", "n_ctx", "n_gen", "n_prompt", "n_threads", "num_cpu",
		"repetitions", "samples_ns", "samples_ts", "stddev_ts", "test", "time", "warmup_s", "weight_bytes_per_token", "weight_gbps",
		"load_s", "repacked_bytes", "kernels", "fast_prompt"}
	for i, line := range lines {
		var keys map[string]any
		if err := json.Unmarshal([]byte(line), &keys); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		var got []string
		for k := range keys {
			got = append(got, k)
		}
		sort.Strings(got)
		sort.Strings(wantKeys)
		if strings.Join(got, " ") != strings.Join(wantKeys, " ") {
			t.Errorf("line %d keys:\n got %v\nwant %v", i, got, wantKeys)
		}
		var r benchResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		wantTest, np, ng := []string{"pp6", "tg3"}[i], []int{6, 0}[i], []int{0, 3}[i]
		if r.Test != wantTest || r.NPrompt != np || r.NGen != ng || r.Threads != 2 || r.Reps != 3 || r.NCtx != 6 || r.KVType != "f32" {
			t.Errorf("line %d: test %s n_prompt %d n_gen %d threads %d reps %d ctx %d kv %s", i, r.Test, r.NPrompt, r.NGen, r.Threads, r.Reps, r.NCtx, r.KVType)
		}
		if r.Model != path || r.FileSize != m.FileSize || r.ModelSize != all || r.Params != 292800 || r.ModelType != "F32 48" {
			t.Errorf("line %d: model %s file %d size %d (want %d) params %d type %q", i, r.Model, r.FileSize, r.ModelSize, all, r.Params, r.ModelType)
		}
		if r.WeightBytes != perToken {
			t.Errorf("line %d: weight bytes per token %d, want %d", i, r.WeightBytes, perToken)
		}
		if len(r.SamplesNS) != 3 || len(r.SamplesTS) != 3 {
			t.Fatalf("line %d: %d and %d samples, want 3", i, len(r.SamplesNS), len(r.SamplesTS))
		}
		tokens := float64(np + ng)
		for j, ns := range r.SamplesNS {
			if want := tokens / (float64(ns) / 1e9); ns <= 0 || math.Abs(r.SamplesTS[j]-want) > 1e-6*want {
				t.Errorf("line %d sample %d: %d ns but %g tok/s (want %g)", i, j, ns, r.SamplesTS[j], want)
			}
		}
		if !(r.MinTS <= r.MedianTS && r.MedianTS <= r.MaxTS && r.MinTS <= r.AvgTS && r.AvgTS <= r.MaxTS && r.MinTS > 0 && r.StddevTS >= 0) {
			t.Errorf("line %d: min %g median %g avg %g max %g stddev %g", i, r.MinTS, r.MedianTS, r.AvgTS, r.MaxTS, r.StddevTS)
		}
		perPass := []float64{6, 1}[i]
		if want := float64(perToken) * r.MedianTS / perPass / 1e9; math.Abs(r.WeightGBps-want) > 1e-9*want {
			t.Errorf("line %d: %g GB/s, want %g", i, r.WeightGBps, want)
		}
		if runtime.GOOS == "linux" && len(r.LoadAvg) != 3 {
			t.Errorf("line %d: load_avg %v", i, r.LoadAvg)
		}
		if r.FastPrompt {
			t.Errorf("line %d: fast_prompt without --fast-prompt", i)
		}
		if r.WarmupSeconds <= 0 || r.GoVersion != runtime.Version() || r.Time == "" || r.NumCPU != runtime.NumCPU() {
			t.Errorf("line %d: warmup %g go %s time %q cpus %d", i, r.WarmupSeconds, r.GoVersion, r.Time, r.NumCPU)
		}
	}

	// One test only; no warm-up.
	out, _, err = runCmd("bench", path, "-t", "1", "-p", "0", "-n", "2", "-r", "1", "--json", "--no-warmup")
	if err != nil {
		t.Fatal(err)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Test != "tg2" || r.WarmupSeconds != 0 {
		t.Errorf("tg only: %v %+v", err, r)
	}
}

func TestBenchMembw(t *testing.T) {
	out, _, err := runCmd("bench", "--membw", "--membw-mib", "16", "-t", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var threads []int
	for sc.Scan() {
		var r membwResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Test != "membw" || r.Bytes != 16<<20 || r.Passes != 5 || !(r.MedianGB > 0.1) || r.MaxGB < r.MedianGB {
			t.Errorf("membw result %+v", r)
		}
		threads = append(threads, r.Threads)
	}
	if len(threads) != 2 || threads[0] != 1 || threads[1] != 2 {
		t.Errorf("thread counts measured: %v, want [1 2]", threads)
	}
	out, _, err = runCmd("bench", "--membw", "--membw-mib", "8", "-t", "1")
	if err != nil || !strings.Contains(out, "memory read bandwidth, 1 thread(s), 8.0 MiB buffer: ") || strings.Count(out, "\n") != 1 {
		t.Errorf("membw text: %v %q", err, out)
	}
}

func TestBenchUsage(t *testing.T) {
	m := shareddata.Path(t, "models/gguf/stories260K.gguf")
	for _, args := range [][]string{
		{"bench"},
		{"bench", m, "-r", "0"},
		{"bench", m, "-p", "0", "-n", "0"},
		{"bench", m, "-t", "0"},
		{"bench", m, "-p", "-1"},
		{"bench", m, "--cache-type", "q8"},
		{"bench", m, m},
	} {
		_, _, err := runCmd(args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: error %v, want a usage error", args[1:], err)
		}
	}
	if _, _, err := runCmd("bench", "/nonexistent.gguf", "-r", "1"); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("missing model: %v", err)
	}
}

// TestBenchCPUProfile: --cpuprofile writes a Go CPU profile (gzipped
// protobuf) of the timed runs; a path that cannot be created fails before
// any measurement, naming the flag and the path.
func TestBenchCPUProfile(t *testing.T) {
	m := shareddata.Path(t, "models/gguf/stories260K.gguf")
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	if _, _, err := runCmd("bench", m, "-t", "1", "-p", "8", "-n", "4", "-r", "2", "--cpuprofile", prof); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("profile is %d bytes and not gzip (pprof's format)", len(b))
	}
	bad := filepath.Join(t.TempDir(), "missing", "cpu.prof")
	out, _, err := runCmd("bench", m, "-t", "1", "-p", "8", "-n", "0", "-r", "1", "--cpuprofile", bad)
	if err == nil || !strings.Contains(err.Error(), "--cpuprofile") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("uncreatable profile path: error %v", err)
	}
	if strings.Contains(out, "| pp8") {
		t.Errorf("measured despite the bad profile path:\n%s", out)
	}
}

// TestWeightBytesTied: with the classifier shared with the embedding (the
// llama2.c checkpoint), a pass reads the whole table as the classifier plus
// one row of it as the embedding.
func TestWeightBytesTied(t *testing.T) {
	m, err := model.Open(shareddata.Path(t, "models/llama2c/stories260K.bin"),
		model.Options{TokenizerPath: shareddata.Path(t, "models/llama2c/tok512.bin")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, ok := m.Tensor(model.Output); ok {
		t.Fatal("stories260K.bin has an output.weight: not a tied model")
	}
	size, params, perToken := weightBytes(m)
	embd, _ := m.Tensor(model.TokenEmbd)
	row := int64(len(embd.Data) / m.Config.Vocab)
	if perToken != size+row || params*4 != size {
		t.Errorf("size %d, params %d, per token %d; want per token %d", size, params, perToken, size+row)
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		xs                        []float64
		mean, med, lo, hi, stddev float64
	}{
		{[]float64{5}, 5, 5, 5, 5, 0},
		{[]float64{3, 1, 2}, 2, 2, 1, 3, 1},
		{[]float64{4, 1, 3, 2}, 2.5, 2.5, 1, 4, math.Sqrt(5.0 / 3)},
	} {
		mean, med, lo, hi, sd := summarize(c.xs)
		if mean != c.mean || med != c.med || lo != c.lo || hi != c.hi || math.Abs(sd-c.stddev) > 1e-12 {
			t.Errorf("summarize(%v) = %g %g %g %g %g", c.xs, mean, med, lo, hi, sd)
		}
	}
}
