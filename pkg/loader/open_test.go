package loader

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
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
