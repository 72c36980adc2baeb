package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// TestTrailingBytes: a GGUF written raw to a disk is followed by the rest of
// the disk. The reader must parse it as the same model, map every byte, and
// report where the GGUF ends.
func TestTrailingBytes(t *testing.T) {
	orig, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	if want.End() != uint64(len(orig)) {
		t.Errorf("End() of the plain file = %d, want its size %d", want.End(), len(orig))
	}
	for _, tail := range []int{1, 511, 4 << 20} {
		garbage := bytes.Repeat([]byte{0xA5, 'G', 'G', 'U', 'F'}, tail/5+1)[:tail]
		path := filepath.Join(t.TempDir(), "disk.img")
		if err := os.WriteFile(path, append(append([]byte(nil), orig...), garbage...), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if err != nil {
			t.Fatalf("%d trailing bytes: %v", tail, err)
		}
		if f.FileSize != uint64(len(orig)+tail) || len(f.Data()) != len(orig)+tail {
			t.Errorf("%d trailing bytes: FileSize %d, %d bytes mapped, want %d", tail, f.FileSize, len(f.Data()), len(orig)+tail)
		}
		if f.End() != uint64(len(orig)) {
			t.Errorf("%d trailing bytes: End() = %d, want %d", tail, f.End(), len(orig))
		}
		if !reflect.DeepEqual(f.KV, want.KV) || !reflect.DeepEqual(f.Tensors, want.Tensors) || f.DataOffset != want.DataOffset {
			t.Errorf("%d trailing bytes: parsed differently from the plain file", tail)
		}
		for _, ti := range want.Tensors {
			got, err := f.TensorData(ti.Name)
			exp, _ := want.TensorData(ti.Name)
			if err != nil || !bytes.Equal(got, exp) {
				t.Fatalf("%d trailing bytes: tensor %s differs (%v)", tail, ti.Name, err)
			}
		}
		f.Close()
	}
}
