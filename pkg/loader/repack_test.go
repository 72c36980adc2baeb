package loader

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/kernels"
	"github.com/llmboot/llmboot/pkg/llm"
	"github.com/llmboot/llmboot/pkg/model"
	"github.com/llmboot/llmboot/pkg/model/synth"
)

// TestRepackedMatchesRowMajor: the default resident weights (Q4_0 and Q8_0
// matrices interleaved by row quads, Q3_K, Q4_K, Q5_K and Q6_K ones in
// the lane-major layout where the kernel path has kernels for it) give the logits of the
// file's own layout bit for bit, for a prompt batch and single tokens, and
// the file pages they were copied from leave the resident set.
func TestRepackedMatchesRowMajor(t *testing.T) {
	shape := synth.Shape{Dim: 512, Hidden: 1536, Layers: 4, Heads: 8, KVHeads: 2, Vocab: 512, Context: 64, RopeBase: 10000, RMSEps: 1e-5}
	for _, mix := range []synth.Mix{synth.Q8_0, synth.Q4_0, synth.Q3_K_M, synth.Q4_K_M, synth.Q5_K_M, synth.Q6_K} {
		t.Run(string(mix), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gen.gguf")
			if _, err := synth.Write(path, synth.Options{Shape: shape, Mix: mix, Seed: 5}); err != nil {
				t.Fatal(err)
			}
			m, err := model.Open(path, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			rows, err := MemoryWith(m, MemoryOptions{RowMajor: true})
			if err != nil {
				t.Fatal(err)
			}
			if rows.Repacked != 0 {
				t.Errorf("RowMajor repacked %d bytes", rows.Repacked)
			}
			want := evalAll(t, m, rows)
			// What the default must do with layer 0's Q and Down, layer
			// 1's Up: LayoutRows where the active path has no layout for
			// them (k-quants on the generic path).
			lr0, _ := rows.Layer(0)
			lr1, _ := rows.Layer(1)
			wantQ, wantDown, wantUp := kernels.PreferredLayout(lr0.Q), kernels.PreferredLayout(lr0.Down), kernels.PreferredLayout(lr1.Up)
			t.Logf("layouts: Q %s, Down %s, Up %s", wantQ, wantDown, wantUp)

			// Touch every tensor so the mapping is resident, then repack.
			var sum byte
			for _, tn := range m.Tensors {
				for i := 0; i < len(tn.Data); i += 4096 {
					sum += tn.Data[i]
				}
			}
			_ = sum
			before := rssFile(t)
			packed, err := Memory(m)
			if err != nil {
				t.Fatal(err)
			}
			defer packed.Close()
			after := rssFile(t)
			lw, _ := packed.Layer(0)
			if lw.Q.Layout != wantQ || lw.Down.Layout != wantDown {
				t.Errorf("layer 0 Q is %s, Down %s: want %s, %s", lw.Q.Layout, lw.Down.Layout, wantQ, wantDown)
			}
			if wantQ == kernels.LayoutRows {
				if packed.Repacked != 0 {
					t.Errorf("repacked %d bytes with no layout for Q", packed.Repacked)
				}
			} else if packed.Repacked < int64(len(lw.Q.Data))*int64(shape.Layers) {
				t.Errorf("repacked %d bytes", packed.Repacked)
			}
			if before >= 0 && after >= 0 && before-after < packed.Repacked/2 {
				t.Errorf("file-backed RSS went from %d to %d bytes after repacking %d bytes: pages not evicted", before, after, packed.Repacked)
			}
			same(t, "repacked", evalAll(t, m, packed), want)

			// In place, over a copy of the file that only these weights use.
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			mb, err := model.OpenBytes(path, data, model.Options{})
			if err != nil {
				t.Fatal(err)
			}
			inPlace, err := MemoryWith(mb, MemoryOptions{InPlace: true})
			if err != nil {
				t.Fatal(err)
			}
			if inPlace.Repacked != packed.Repacked {
				t.Errorf("in place repacked %d bytes, into new memory %d", inPlace.Repacked, packed.Repacked)
			}
			if lw, _ := inPlace.Layer(1); lw.Up.Layout != wantUp || &lw.Up.Data[0] != &mustTensor(t, mb, "blk.1.ffn_up.weight").Data[0] {
				t.Error("in-place repack did not repack inside the model's bytes")
			}
			same(t, "repacked in place", evalAll(t, mb, inPlace), want)
		})
	}
}

// evalAll returns the logits of a 5-token batch followed by three single
// tokens, on two threads.
func evalAll(t *testing.T, m *model.Model, w llm.Weights) []float32 {
	t.Helper()
	pool := kernels.NewPool(2)
	defer pool.Close()
	e, err := llm.NewEngine(m.Config, w, pool, llm.Options{Context: 16})
	if err != nil {
		t.Fatal(err)
	}
	logits, err := e.Eval([]int{1, 40, 300, 7, 99}, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]float32(nil), logits...)
	for i, tok := range []int{5, 77, 450} {
		l, err := e.Eval([]int{tok}, 5+i, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l...)
	}
	return out
}

// rssFile is this process's file-backed resident set in bytes, -1 where
// /proc does not say.
func rssFile(t *testing.T) int64 {
	if runtime.GOOS != "linux" {
		return -1
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("RssFile %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return -1
}

func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("logit %d: %g %s, %g row-major", i, got[i], what, want[i])
		}
	}
}

func mustTensor(t *testing.T, m *model.Model, name string) model.Tensor {
	t.Helper()
	tn, ok := m.Tensor(name)
	if !ok {
		t.Fatalf("no tensor %q", name)
	}
	return tn
}

// TestNoRepackOnRAMBackedFile: a model file on tmpfs keeps its layout (its
// pages cannot be evicted, so a repacked copy would double them); elsewhere
// the same file is repacked.
func TestNoRepackOnRAMBackedFile(t *testing.T) {
	shm := "/dev/shm"
	if !ramBacked(shm) {
		t.Skipf("%s is not a tmpfs here", shm)
	}
	shape := synth.Shape{Dim: 128, Hidden: 256, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 512, Context: 64, RopeBase: 10000, RMSEps: 1e-5}
	dir, err := os.MkdirTemp(shm, "llmboot-test-")
	if err != nil {
		t.Skipf("%s: %v", shm, err)
	}
	defer os.RemoveAll(dir)
	onDisk := filepath.Join(t.TempDir(), "m.gguf")
	inRAM := filepath.Join(dir, "m.gguf")
	for _, p := range []string{onDisk, inRAM} {
		if _, err := synth.Write(p, synth.Options{Shape: shape, Mix: synth.Q8_0, Seed: 2}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		path     string
		repacked bool
	}{{inRAM, false}, {onDisk, !ramBacked(onDisk)}} {
		var logged []string
		l, err := Open(c.path, Options{Strategy: StrategyMemory, Log: func(s string) { logged = append(logged, s) }})
		if err != nil {
			t.Fatal(err)
		}
		got := l.Weights.(*Resident).Repacked > 0
		l.Close()
		if got != c.repacked {
			t.Errorf("%s: repacked %v, want %v (log %q)", c.path, got, c.repacked, logged)
		}
		if !c.repacked && (len(logged) != 1 || !strings.Contains(logged[0], "RAM-backed")) {
			t.Errorf("%s: log %q, want one line about the RAM-backed file system", c.path, logged)
		}
	}
}
