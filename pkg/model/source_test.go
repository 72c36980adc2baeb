package model

import (
	"bytes"
	"os"
	"sync/atomic"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// countingReader records how many reads and bytes a header parse costs.
type countingReader struct {
	b            []byte
	reads, bytes atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	c.bytes.Add(int64(len(p)))
	return bytes.NewReader(c.b).ReadAt(p, off)
}

func TestOpenAt(t *testing.T) {
	for _, file := range []string{"models/gguf/stories260K.gguf", "models/tiny256/tiny256-Q4_K_M.gguf"} {
		data, err := os.ReadFile(shareddata.Path(t, file))
		if err != nil {
			t.Fatal(err)
		}
		full, err := Open(shareddata.Path(t, file), Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := &countingReader{b: data}
		m, err := OpenAt("http://example/"+file, r, int64(len(data)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Config != full.Config || len(m.Tensors) != len(full.Tensors) || m.Tokenizer.Len() != full.Tokenizer.Len() {
			t.Errorf("%s: header-only model differs: %+v", file, m.Config)
		}
		for i, tt := range m.Tensors {
			ft := full.Tensors[i]
			if tt.Data != nil || tt.Offset != ft.Offset || tt.Type != ft.Type {
				t.Errorf("%s: tensor %s: offset %d type %s data %d bytes; mapped file: offset %d type %s",
					file, tt.Name, tt.Offset, tt.Type, len(tt.Data), ft.Offset, ft.Type)
			}
			// The offset really points at the tensor's bytes.
			if !bytes.Equal(data[tt.Offset:tt.Offset+int64(len(ft.Data))], ft.Data) {
				t.Errorf("%s: tensor %s: bytes at offset differ", file, tt.Name)
			}
		}
		// The header is a few KiB: it must not cost the whole file.
		if r.bytes.Load() > 256<<10 && r.bytes.Load() > int64(len(data))/2 {
			t.Errorf("%s: read %d bytes in %d reads for the header", file, r.bytes.Load(), r.reads.Load())
		}
		t.Logf("%s: header in %d reads, %d bytes", file, r.reads.Load(), r.bytes.Load())
		full.Close()
	}
	if _, err := OpenAt("x", bytes.NewReader([]byte("GGUF\x03\x00")), 6, Options{}); err == nil {
		t.Error("truncated header accepted")
	}
}
