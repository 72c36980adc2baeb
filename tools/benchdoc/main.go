// Command benchdoc turns the JSON lines of `llmboot bench --json` (and
// `llmboot bench --membw --json`) into the "llama.cpp comparison" section of
// docs/benchmarks.md, next to llama.cpp's figures on the same machine, and
// rewrites that section in place, keeping the rest of the file.
//
//	go run ./tools/benchdoc -doc docs/benchmarks.md -in results.jsonl [-cmd "how it was run"]
//
// Models are recognised by file name, as tools/bench.sh names them:
// tinyllama-1.1b-<TYPE>.gguf for the 1.1B shape, stories260K*.gguf.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Heading starts the section benchdoc owns; it runs to the next "## ".
const Heading = "## llama.cpp comparison"

// result is the part of a bench JSON line benchdoc reads.
type result struct {
	Test       string    `json:"test"`
	Model      string    `json:"model"`
	Threads    int       `json:"n_threads"`
	NPrompt    int       `json:"n_prompt"`
	NGen       int       `json:"n_gen"`
	Reps       int       `json:"repetitions"`
	MedianTS   float64   `json:"median_ts"`
	MinTS      float64   `json:"min_ts"`
	MaxTS      float64   `json:"max_ts"`
	WeightGBps float64   `json:"weight_gbps"`
	LoadAvg    []float64 `json:"load_avg"`
	Time       string    `json:"time"`
	GoVersion  string    `json:"go_version"`
	MedianGBps float64   `json:"median_gbps"` // membw lines
	FastPrompt bool      `json:"fast_prompt"` // llmboot bench --fast-prompt
}

// refFigures are llama.cpp's tokens/s on this machine (shared/reference/README.md:
// llama-bench -p 128 -n 64, median), index 0 for 2 threads, 1 for 1 thread.
type refFigures struct{ pp, tg [2]float64 }

var llamaCpp = map[string]refFigures{
	"F16":    {pp: [2]float64{85, 46}, tg: [2]float64{19.9, 11.5}},
	"Q8_0":   {pp: [2]float64{102, 55}, tg: [2]float64{26.6, 16.1}},
	"Q4_0":   {pp: [2]float64{110, 60}, tg: [2]float64{48.8, 29.0}},
	"Q4_K_M": {pp: [2]float64{68.5, 33.7}, tg: [2]float64{39.0, 27.5}},
	"Q6_K":   {pp: [2]float64{55.5, 30.0}, tg: [2]float64{35.5, 24.5}},
}

// typeOrder is the row order of the table: the types llama.cpp was
// measured on, then the other k-quant mixes (no reference figures: "–").
var typeOrder = []string{"F16", "Q8_0", "Q4_0", "Q4_K_M", "Q6_K", "Q5_K_M", "Q3_K_M", "Q2_K", "BF16"}

// llama.cpp on stories260K, 1 thread, generation (shared/reference/README.md).
const llamaCppStories = 9900

func main() {
	doc := flag.String("doc", "docs/benchmarks.md", "the Markdown file whose section to rewrite")
	in := flag.String("in", "-", "bench JSON lines (- for stdin)")
	how := flag.String("cmd", "", "how the figures were made, quoted in the section")
	cpu := flag.String("cpu", cpuName(), "the machine, quoted in the section")
	flag.Parse()
	if err := run(*doc, *in, *how, *cpu); err != nil {
		fmt.Fprintf(os.Stderr, "benchdoc: %v\n", err)
		os.Exit(1)
	}
}

func run(doc, in, how, cpu string) error {
	var r io.Reader = os.Stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	results, err := readResults(r)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	section, err := render(results, how, cpu)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(doc)
	if err != nil {
		return err
	}
	tmp := doc + ".tmp"
	if err := os.WriteFile(tmp, []byte(replaceSection(string(old), section)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, doc)
}

func readResults(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var res result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// modelType maps tinyllama-1.1b-Q4_K_M.gguf to Q4_K_M, stories260K*.gguf
// to "stories260K", anything else to "".
func modelType(path string) string {
	base := filepath.Base(path)
	if strings.HasPrefix(base, "stories260K") {
		return "stories260K"
	}
	if t, ok := strings.CutPrefix(base, "tinyllama-1.1b-"); ok {
		return strings.TrimSuffix(t, ".gguf")
	}
	return ""
}

// render makes the section: heading, how and when, bandwidth, the table.
func render(results []result, how, cpu string) (string, error) {
	type key struct {
		typ     string
		threads int
	}
	pp, tg, fpp := map[key]result{}, map[key]result{}, map[key]result{}
	var membw []result
	var threadOrder []int
	seenThreads := map[int]bool{}
	first := ""
	goVersion := ""
	for _, r := range results {
		if r.Time != "" && (first == "" || r.Time < first) {
			first = r.Time
		}
		if r.Test == "membw" {
			membw = append(membw, r)
			continue
		}
		if r.GoVersion != "" {
			goVersion = r.GoVersion
		}
		k := key{modelType(r.Model), r.Threads}
		if k.typ == "" {
			return "", fmt.Errorf("%s: not a model tools/bench.sh names (tinyllama-1.1b-<TYPE>.gguf, stories260K*.gguf)", r.Model)
		}
		switch {
		case strings.HasPrefix(r.Test, "pp") && r.FastPrompt:
			fpp[k] = r
		case strings.HasPrefix(r.Test, "pp"):
			pp[k] = r
		case strings.HasPrefix(r.Test, "tg"):
			tg[k] = r
		}
		if k.typ != "stories260K" && !seenThreads[r.Threads] {
			seenThreads[r.Threads] = true
			threadOrder = append(threadOrder, r.Threads)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(threadOrder)))
	if len(pp)+len(tg) == 0 {
		return "", fmt.Errorf("no bench results")
	}
	date := time.Now().UTC().Format("2006-01-02")
	if t, err := time.Parse(time.RFC3339, first); err == nil {
		date = t.UTC().Format("2006-01-02")
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", Heading)
	fmt.Fprintf(&b, "Measured %s on %s, %s, by `./build.sh bench` (tools/bench.sh", date, cpu, orDash(goVersion))
	if how != "" {
		fmt.Fprintf(&b, ": `%s`", how)
	}
	b.WriteString("). The machine is shared: the load average (1 min) at the start of each run is beside it.\n")
	if len(membw) > 0 {
		// Grouped by thread count, in run order (tools/bench.sh probes at
		// the start and at the end).
		byThreads := map[int][]string{}
		var order []int
		for _, m := range membw {
			if byThreads[m.Threads] == nil {
				order = append(order, m.Threads)
			}
			byThreads[m.Threads] = append(byThreads[m.Threads], fmt.Sprintf("%.1f GB/s (load %s)", m.MedianGBps, load1(m.LoadAvg)))
		}
		b.WriteString("Memory read bandwidth at the time (`llmboot bench --membw`, median of 5 passes over 1 GiB held as the repacked weights are, in huge pages where the kernel gives them)")
		for i, th := range order {
			sep := ";"
			if i == 0 {
				sep = ":"
			}
			fmt.Fprintf(&b, "%s %d thread%s %s", sep, th, plural(th), strings.Join(byThreads[th], ", then "))
		}
		b.WriteString(".\n")
	}
	b.WriteString(`
Models: random weights of the TinyLlama-1.1B shape (` + "`llmboot gen-model --type TYPE`" + `, seed 1; the same tensor
bytes as the files llama.cpp was measured on). llmboot: ` + "`llmboot bench -p P -n N`" + `, median tok/s over the
repetitions after a warm-up. llama.cpp: llama-bench ` + "`-p 128 -n 64`" + ` medians from shared/reference/README.md
(AVX-512 + VNNI build, Q4_0 repacked at load). Ratio: llmboot ÷ llama.cpp. llmboot pp is the default, which
gives a prompt the bits of its tokens one at a time (llama.cpp's vec_dot order); fast pp is ` + "`--fast-prompt`" + `,
the blockwise kernels for F16, Q8_0 and Q4_0 (their rounding differs in the last bits). Weight GB/s: the
weight bytes one token's forward pass reads × tg tok/s. Targets (issue 4), 2 threads: tg ≥ 0.9×, pp ≥ 0.7×.
The reference has no Q5_K_M, Q3_K_M, Q2_K or BF16 figures: those rows show llmboot alone.

`)
	b.WriteString("| type | threads | llmboot pp | llama.cpp pp128 | pp ratio | fast pp | its ratio | llmboot tg | llama.cpp tg64 | tg ratio | weight GB/s (tg) | load |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, typ := range typeOrder {
		for _, th := range threadOrder {
			k := key{typ, th}
			p, hasP := pp[k]
			g, hasG := tg[k]
			f, hasF := fpp[k]
			if !hasP && !hasG {
				continue
			}
			ref, hasRef := llamaCpp[typ]
			col := -1
			if th == 2 {
				col = 0
			} else if th == 1 {
				col = 1
			}
			var refPP, refTG float64
			if hasRef && col >= 0 {
				refPP, refTG = ref.pp[col], ref.tg[col]
			}
			lr := p
			if !hasP {
				lr = g
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", typ, th,
				rate(p, hasP), num(refPP), ratio(p.MedianTS, refPP, hasP), rate(f, hasF), ratio(f.MedianTS, refPP, hasF),
				rate(g, hasG), num(refTG), ratio(g.MedianTS, refTG, hasG), gbps(g, hasG), load1(lr.LoadAvg))
		}
	}
	sp, hasSP := pp[key{"stories260K", 1}]
	sg, hasSG := tg[key{"stories260K", 1}]
	if hasSP || hasSG {
		fmt.Fprintf(&b, "\nstories260K, 1 thread: %s %s tok/s, %s %s tok/s (load %s); llama.cpp ~%d tok/s generating (%s),\n"+
			"llama2.c run.c 4,600 scalar, ~11,500 with OpenMP. Target: ≥ 5,000 tok/s.\n",
			testName(sp, hasSP, "pp"), rate(sp, hasSP), testName(sg, hasSG, "tg"), rate(sg, hasSG), load1(firstLoad(sp, sg, hasSP)),
			llamaCppStories, ratioText(sg.MedianTS, llamaCppStories, hasSG))
	}
	if n := testSizes(pp, tg); n != "" {
		fmt.Fprintf(&b, "\nllmboot tests run: %s.\n", n)
	}
	b.WriteString("\nRegenerate: `./build.sh bench` (the whole table), or `tools/bench.sh -p 8 -n 4 -r 1 --types Q4_0 --threads 2`\n" +
		"for a quick check. Every `llmboot bench --json` line is kept in out/bench/results-<time>.jsonl; the fields are listed\n" +
		"by `llmboot bench --help`.\n")
	return b.String(), nil
}

func testName(r result, ok bool, prefix string) string {
	if !ok {
		return prefix
	}
	return r.Test
}

func firstLoad(a, b result, useA bool) []float64 {
	if useA {
		return a.LoadAvg
	}
	return b.LoadAvg
}

// testSizes lists the distinct test names and repetitions, so a quick run
// (-p 8 -n 4 -r 1) is not mistaken for the real one.
func testSizes[K comparable](maps ...map[K]result) string {
	seen := map[string]bool{}
	var l []string
	for _, m := range maps {
		for _, r := range m {
			s := fmt.Sprintf("%s ×%d", r.Test, r.Reps)
			if !seen[s] {
				seen[s] = true
				l = append(l, s)
			}
		}
	}
	sort.Strings(l)
	return strings.Join(l, ", ")
}

func rate(r result, ok bool) string {
	if !ok {
		return "–"
	}
	return num(r.MedianTS)
}

func gbps(r result, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f", r.WeightGBps)
}

func num(x float64) string {
	switch {
	case x == 0:
		return "–"
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 100:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func ratio(x, ref float64, ok bool) string {
	if !ok || ref == 0 {
		return "–"
	}
	if r := x / ref; r < 0.1 {
		return fmt.Sprintf("%.3f×", r)
	}
	return fmt.Sprintf("%.2f×", x/ref)
}

func ratioText(x, ref float64, ok bool) string {
	if !ok {
		return "no llmboot figure"
	}
	return "llmboot " + ratio(x, ref, true)
}

func load1(l []float64) string {
	if len(l) == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f", l[0])
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// replaceSection swaps the section under Heading (up to the next "## "
// heading) for section; without one, section goes before the first "## "
// heading, or at the end.
func replaceSection(doc, section string) string {
	lines := strings.SplitAfter(doc, "\n")
	start, end := -1, len(lines)
	firstH2 := -1
	for i, l := range lines {
		t := strings.TrimRight(l, "\n")
		if strings.HasPrefix(t, "## ") {
			if firstH2 < 0 {
				firstH2 = i
			}
			if start >= 0 && i > start {
				end = i
				break
			}
			if t == Heading {
				start = i
			}
		}
	}
	section = strings.TrimRight(section, "\n") + "\n"
	switch {
	case start >= 0:
		rest := strings.Join(lines[end:], "")
		if rest != "" {
			section += "\n"
		}
		return strings.Join(lines[:start], "") + section + rest
	case firstH2 >= 0:
		return strings.Join(lines[:firstH2], "") + section + "\n" + strings.Join(lines[firstH2:], "")
	}
	if doc != "" && !strings.HasSuffix(doc, "\n\n") {
		doc = strings.TrimRight(doc, "\n") + "\n\n"
	}
	return doc + section
}

// cpuName is the processor as /proc/cpuinfo names it, with the core count.
func cpuName() string {
	name := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				name = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", name, runtime.NumCPU())
}
