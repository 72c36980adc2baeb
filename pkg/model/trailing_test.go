package model

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// TestOpenWithTrailingBytes: a model written raw at the start of a disk image
// opens as the model; FileSize is the image's size for a regular file (the
// block-device case, where it is the GGUF's own length, runs in the QEMU
// tests: no loop devices on the build machines).
func TestOpenWithTrailingBytes(t *testing.T) {
	orig, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, 8<<20)
	copy(img, orig)
	for i := len(orig); i < len(img); i++ {
		img[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Format != FormatGGUF || m.Config.Layers != 5 || m.Config.Dim != 64 || m.Tokenizer == nil || m.Tokenizer.Len() != 512 {
		t.Errorf("format %s, config %+v", m.Format, m.Config)
	}
	if m.FileSize != int64(len(img)) {
		t.Errorf("FileSize = %d, want %d", m.FileSize, len(img))
	}
}

// TestOpenAtWithTrailingBytes: through a ReaderAt (how a loader reads a raw
// device) the model is the GGUF, not the whole disk behind it.
func TestOpenAtWithTrailingBytes(t *testing.T) {
	orig, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, 8<<20)
	copy(img, orig)
	m, err := OpenAt("/dev/nvme0n1", bytes.NewReader(img), int64(len(img)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.FileSize != int64(len(orig)) {
		t.Errorf("FileSize = %d, want the GGUF's %d bytes", m.FileSize, len(orig))
	}
	if m.Config.Layers != 5 || m.Tokenizer == nil {
		t.Errorf("config %+v", m.Config)
	}
}
