package loader

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Strategy names a way for weights to reach the kernels.
type Strategy string

// The strategies. Later ones (device memory, remote shards) are more rows of
// the same plan table.
const (
	StrategyAuto    Strategy = "auto"
	StrategyMemory  Strategy = "memory"  // mapped or read whole into RAM
	StrategyNVMe    Strategy = "nvme"    // streamed from a file or block device
	StrategyNetwork Strategy = "network" // streamed from an HTTP server
)

// ParseStrategy accepts the --strategy values.
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(s); st {
	case StrategyAuto, StrategyMemory, StrategyNVMe, StrategyNetwork:
		return st, nil
	}
	return "", fmt.Errorf("strategy %q is not one of auto, memory, nvme, network", s)
}

// Inputs are what a plan is computed from: measured, not guessed.
type Inputs struct {
	FileBytes     int64   // the model file
	PassBytes     int64   // weight bytes one forward pass reads
	StreamBytes   int64   // memory the streaming ring needs (buffers + resident tensors)
	Slots         int     // layer buffers in the ring that fit the memory
	KVBytes       int64   // the KV cache
	Available     int64   // memory usable: min(MemAvailable, cgroup limit, --mem-limit)
	AvailableFrom string  // which of those set Available
	SourceBW      float64 // bytes/s read from the source (probe)
	MemoryBW      float64 // bytes/s the CPU reads from RAM (probe)
	Streaming     Strategy
}

// Overhead is memory kept free beyond the model and cache: the engine's
// activations, the Go runtime, the shell.
const Overhead = 64 << 20

// Plan is one row of the table --explain prints.
type Plan struct {
	Strategy Strategy
	Memory   int64 // bytes it needs resident
	Feasible bool
	TokPerS  float64 // generation speed bound from bandwidth
	Why      string
}

// Plans computes the memory and streaming rows for in.
func Plans(in Inputs) []Plan {
	mem := Plan{Strategy: StrategyMemory, Memory: in.FileBytes + in.KVBytes + Overhead}
	mem.Feasible = mem.Memory <= in.Available
	if in.MemoryBW > 0 && in.PassBytes > 0 {
		mem.TokPerS = in.MemoryBW / float64(in.PassBytes)
	}
	if mem.Feasible {
		mem.Why = fmt.Sprintf("model and cache fit in %s available", FormatBytes(in.Available))
	} else {
		mem.Why = fmt.Sprintf("needs %s, %s available (%s)", FormatBytes(mem.Memory), FormatBytes(in.Available), in.AvailableFrom)
	}
	st := Plan{Strategy: in.Streaming, Memory: in.StreamBytes + in.KVBytes + Overhead}
	st.Feasible = st.Memory <= in.Available
	if in.SourceBW > 0 && in.PassBytes > 0 {
		// Each token reads every streamed byte from the source once.
		st.TokPerS = in.SourceBW / float64(in.PassBytes)
		if mem.TokPerS > 0 {
			st.TokPerS = min(st.TokPerS, mem.TokPerS)
		}
	}
	if st.Feasible {
		st.Why = fmt.Sprintf("a ring of %d layer buffers, every token re-reads %s at %s/s", in.Slots, FormatBytes(in.PassBytes), FormatBytes(int64(in.SourceBW)))
	} else {
		st.Why = fmt.Sprintf("even streaming needs %s, %s available", FormatBytes(st.Memory), FormatBytes(in.Available))
	}
	return []Plan{mem, st}
}

// Choose picks the plan for the requested strategy: auto takes the memory
// plan when it is feasible (it is never slower), else streaming.
func Choose(req Strategy, plans []Plan) (Plan, error) {
	for _, p := range plans {
		if req != StrategyAuto && p.Strategy == req {
			if !p.Feasible {
				return p, fmt.Errorf("strategy %s: %s", p.Strategy, p.Why)
			}
			return p, nil
		}
	}
	if req != StrategyAuto {
		return Plan{}, fmt.Errorf("strategy %s does not apply to this source", req)
	}
	for _, p := range plans {
		if p.Feasible {
			return p, nil
		}
	}
	return Plan{}, fmt.Errorf("model does not fit: %s; %s", plans[0].Why, plans[len(plans)-1].Why)
}

// Explain writes the plan table and the choice.
func Explain(w io.Writer, plans []Plan, chosen Plan, in Inputs) {
	fmt.Fprintf(w, "llmboot: plans (model %s, %s per token, KV cache %s, %s available from %s; source %s/s, memory %s/s):\n",
		FormatBytes(in.FileBytes), FormatBytes(in.PassBytes), FormatBytes(in.KVBytes), FormatBytes(in.Available), in.AvailableFrom,
		FormatBytes(int64(in.SourceBW)), FormatBytes(int64(in.MemoryBW)))
	for _, p := range plans {
		mark := " "
		if p.Strategy == chosen.Strategy {
			mark = "*"
		}
		feas := "feasible"
		if !p.Feasible {
			feas = "infeasible"
		}
		fmt.Fprintf(w, "llmboot: %s %-8s needs %9s  %-10s  ~%.1f tok/s  %s\n", mark, p.Strategy, FormatBytes(p.Memory), feas, p.TokPerS, p.Why)
	}
}

// Available returns the memory a plan may use: MemAvailable from
// /proc/meminfo, lowered by a cgroup v2 limit and by limit (0: none).
func Available(limit int64) (int64, string) {
	avail, from := int64(-1), "MemAvailable"
	if f, err := os.Open("/proc/meminfo"); err == nil {
		avail = memAvailable(f)
		f.Close()
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			if cur, err := os.ReadFile("/sys/fs/cgroup/memory.current"); err == nil {
				if used, err := strconv.ParseInt(strings.TrimSpace(string(cur)), 10, 64); err == nil {
					v -= used
				}
			}
			if avail < 0 || v < avail {
				avail, from = v, "cgroup memory.max"
			}
		}
	}
	if limit > 0 && (avail < 0 || limit < avail) {
		avail, from = limit, "--mem-limit"
	}
	if avail < 0 {
		avail, from = 1<<62, "no limit known"
	}
	return avail, from
}

// memAvailable parses "MemAvailable: N kB" out of /proc/meminfo.
func memAvailable(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return v << 10
			}
		}
	}
	return -1
}

// ParseSize reads sizes like "512M", "8G", "1.5GiB", "1000000".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional K, M, G or T suffix", s)
	}
	return int64(v * float64(mult)), nil
}

// ProbeSource measures how fast src delivers bytes: one read of up to n
// bytes from the middle of the file (a tensor region, not the header).
func ProbeSource(src Source, n int64) (float64, error) {
	n = min(n, src.Size())
	if n <= 0 {
		return 0, nil
	}
	off := (src.Size() - n) / 2
	buf := make([]byte, n)
	start := time.Now()
	if _, err := src.ReadAt(buf, off); err != nil && err != io.EOF {
		return 0, fmt.Errorf("probe read of %s at %d: %w", FormatBytes(n), off, err)
	}
	return float64(n) / max(time.Since(start).Seconds(), 1e-6), nil
}

// FormatBytes formats a byte count with binary units ("1.5 GiB").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
