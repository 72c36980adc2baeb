package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `{"test":"membw","n_threads":1,"bytes":1073741824,"passes":5,"median_gbps":21.5,"max_gbps":22,"load_avg":[1.5,1,1],"time":"2026-11-26T10:00:00Z"}
{"test":"membw","n_threads":2,"bytes":1073741824,"passes":5,"median_gbps":38.25,"max_gbps":40,"load_avg":[1.6,1,1],"time":"2026-11-26T10:00:05Z"}
{"test":"pp128","model":"/c/models/tinyllama-1.1b-Q4_0.gguf","n_threads":2,"n_prompt":128,"n_gen":0,"repetitions":3,"median_ts":88,"min_ts":80,"max_ts":90,"weight_gbps":0.44,"load_avg":[2.25,1,1],"time":"2026-11-26T10:01:00Z","go_version":"go1.26.8"}
{"test":"tg64","model":"/c/models/tinyllama-1.1b-Q4_0.gguf","n_threads":2,"n_prompt":0,"n_gen":64,"repetitions":3,"median_ts":48.8,"min_ts":45,"max_ts":50,"weight_gbps":31.04,"load_avg":[2.25,1,1],"time":"2026-11-26T10:01:00Z","go_version":"go1.26.8"}
{"test":"tg64","model":"/c/models/tinyllama-1.1b-Q4_0.gguf","n_threads":1,"n_prompt":0,"n_gen":64,"repetitions":3,"median_ts":14.5,"min_ts":14,"max_ts":15,"weight_gbps":9.2,"load_avg":[1.25,1,1],"time":"2026-11-26T10:02:00Z","go_version":"go1.26.8"}
{"test":"membw","n_threads":1,"bytes":1073741824,"passes":5,"median_gbps":20,"max_gbps":22,"load_avg":[3,1,1],"time":"2026-11-26T10:09:00Z"}
{"test":"pp128","model":"/c/models/tinyllama-1.1b-Q4_0.gguf","n_threads":2,"n_prompt":128,"n_gen":0,"repetitions":3,"median_ts":99,"min_ts":98,"max_ts":100,"weight_gbps":0.5,"load_avg":[2.25,1,1],"time":"2026-11-26T10:01:30Z","go_version":"go1.26.8","fast_prompt":true}
{"test":"pp128","model":"/c/models/tinyllama-1.1b-F16.gguf","n_threads":2,"n_prompt":128,"n_gen":0,"repetitions":3,"median_ts":17,"min_ts":16,"max_ts":18,"weight_gbps":0.29,"load_avg":[0.5,1,1],"time":"2026-11-26T09:59:00Z","go_version":"go1.26.8"}
{"test":"pp128","model":"testdata/models/gguf/stories260K.gguf","n_threads":1,"n_prompt":128,"n_gen":0,"repetitions":3,"median_ts":2500,"min_ts":2400,"max_ts":2600,"weight_gbps":0.02,"load_avg":[0.75,1,1],"time":"2026-11-26T10:03:00Z","go_version":"go1.26.8"}
{"test":"tg64","model":"testdata/models/gguf/stories260K.gguf","n_threads":1,"n_prompt":0,"n_gen":64,"repetitions":3,"median_ts":4950,"min_ts":4000,"max_ts":5000,"weight_gbps":5,"load_avg":[0.75,1,1],"time":"2026-11-26T10:03:00Z","go_version":"go1.26.8"}
`

func TestRender(t *testing.T) {
	results, err := readResults(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	got, err := render(results, "tools/bench.sh -p 128", "Test CPU, 2 cores")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		Heading + "\n\n",
		"Measured 2026-11-26 on Test CPU, 2 cores, go1.26.8, by `./build.sh bench` (tools/bench.sh: `tools/bench.sh -p 128`)",
		"in huge pages where the kernel gives them): 1 thread 21.5 GB/s (load 1.5), then 20.0 GB/s (load 3.0); 2 threads 38.2 GB/s (load 1.6).",
		// F16 first (table order), pp only: tg columns empty.
		"| F16 | 2 | 17.00 | 85.00 | 0.20× | – | – | – | 19.90 | – | – | 0.5 |\n| Q4_0 | 2 |",
		"| Q4_0 | 2 | 88.00 | 110.0 | 0.80× | 99.00 | 0.90× | 48.80 | 48.80 | 1.00× | 31.04 | 2.2 |",
		"| Q4_0 | 1 | – | 60.00 | – | – | – | 14.50 | 29.00 | 0.50× | 9.20 | 1.2 |",
		"stories260K, 1 thread: pp128 2500 tok/s, tg64 4950 tok/s (load 0.8); llama.cpp ~9900 tok/s generating (llmboot 0.50×)",
		"llmboot tests run: pp128 ×3, tg64 ×3.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Q8_0 |") {
		t.Errorf("a type without results got a row:\n%s", got)
	}

	if _, err := render(results[:2], "", "x"); err == nil {
		t.Errorf("bandwidth alone rendered a table")
	}
	bad := append(results, result{Test: "tg8", Model: "llama-7b.gguf", Threads: 2})
	if _, err := render(bad, "", "x"); err == nil || !strings.Contains(err.Error(), "llama-7b.gguf") {
		t.Errorf("unknown model name: %v", err)
	}
}

func TestReplaceSection(t *testing.T) {
	sec := Heading + "\n\nnew table\n"
	for _, c := range []struct{ name, doc, want string }{
		{"replace middle", "# B\n\nintro\n\n" + Heading + "\n\nold\nold\n\n## Kernels\n\nk\n",
			"# B\n\nintro\n\n" + Heading + "\n\nnew table\n\n## Kernels\n\nk\n"},
		{"replace last", "# B\n\n## A\n\na\n\n" + Heading + "\n\nold\n",
			"# B\n\n## A\n\na\n\n" + Heading + "\n\nnew table\n"},
		{"insert before first section", "# B\n\nintro\n\n## A\n\na\n",
			"# B\n\nintro\n\n" + Heading + "\n\nnew table\n\n## A\n\na\n"},
		{"append", "# B\n\nintro\n", "# B\n\nintro\n\n" + Heading + "\n\nnew table\n"},
		{"heading text inside a line is not the heading", "# B\n\nsee " + Heading + "\n",
			"# B\n\nsee " + Heading + "\n\n" + Heading + "\n\nnew table\n"},
	} {
		if got := replaceSection(c.doc, sec); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		// Idempotent: a second run changes nothing.
		if got := replaceSection(replaceSection(c.doc, sec), sec); got != replaceSection(c.doc, sec) {
			t.Errorf("%s: not idempotent:\n%q", c.name, got)
		}
	}
}

func TestRunRewritesFile(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "benchmarks.md")
	in := filepath.Join(dir, "r.jsonl")
	orig := "# Benchmarks\n\nintro\n\n## Tokens per second\n\nkept\n"
	if err := os.WriteFile(doc, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(doc, in, "", "cpu"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "# Benchmarks\n\nintro\n\n"+Heading) || !strings.HasSuffix(s, "\n\n## Tokens per second\n\nkept\n") {
		t.Errorf("file:\n%s", s)
	}
	if err := os.WriteFile(in, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(doc, in, "", "cpu"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad input: %v", err)
	}
	if b2, _ := os.ReadFile(doc); string(b2) != s {
		t.Errorf("a failed run changed the file")
	}
}
