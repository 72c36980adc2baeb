package loader

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/model"
)

// TestOpenRawDisk: a GGUF written at the start of a bigger disk image (what
// a raw NVMe namespace holds) loads reading only the model's bytes, with
// either strategy.
func TestOpenRawDisk(t *testing.T) {
	data, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(disk)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Truncate(64 << 20) // the rest of the "disk"
	f.Close()
	for _, st := range []Strategy{StrategyAuto, StrategyNVMe} {
		l, err := Open(disk, Options{Strategy: st})
		if err != nil {
			t.Fatal(err)
		}
		// Streaming reads by the tensor table: only the GGUF's bytes count.
		if st == StrategyNVMe && l.Model.FileSize != int64(len(data)) {
			t.Errorf("%s: model size %d, want the GGUF's %d", st, l.Model.FileSize, len(data))
		}
		if st == StrategyAuto && (l.Plan.Strategy != StrategyMemory || l.Source != "mmap") {
			t.Errorf("auto on a small regular file: %s via %s, want memory via mmap", l.Plan.Strategy, l.Source)
		}
		l.Close()
	}
	// A device-like source (not mappable) is read into memory: only the model.
	src, err := OpenFile(disk, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := openSource(disk, src, StrategyNVMe, false, Options{Strategy: StrategyMemory, Slots: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Source != "read into memory" || l.Model.FileSize != int64(len(data)) {
		t.Errorf("device: %s, size %d", l.Source, l.Model.FileSize)
	}
}

// TestSlotsShrinkToFit: when three layer buffers do not fit the memory
// limit but two do, the plan streams with two instead of refusing.
func TestSlotsShrinkToFit(t *testing.T) {
	m, err := model.Open(shareddata.Path(t, "models/gguf/stories260K.gguf"), model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	full := inputs(m, Options{Slots: 3, MemLimit: 1 << 40})
	per := full.StreamBytes / 3
	for _, c := range []struct {
		limit int64
		slots int
	}{
		{Overhead + 3*per, 3},
		{Overhead + 3*per - 1, 2},
		{Overhead + 2*per - 1, 2}, // two is the floor: then the plan is infeasible
	} {
		in := inputs(m, Options{Slots: 3, MemLimit: c.limit})
		if in.Slots != c.slots || in.StreamBytes != int64(c.slots)*per {
			t.Errorf("limit %d: %d slots, %d bytes; want %d slots", c.limit, in.Slots, in.StreamBytes, c.slots)
		}
		feasible := Plans(in)[1].Feasible
		if want := c.limit >= Overhead+int64(c.slots)*per; feasible != want {
			t.Errorf("limit %d: streaming feasible = %v, want %v", c.limit, feasible, want)
		}
	}
}
