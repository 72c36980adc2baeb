package gguf

import (
	"bytes"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
)

// FuzzParse feeds arbitrary bytes to Parse and ParseHeader. Refusals must be
// "gguf: " errors; accepted files must keep every tensor inside the buffer
// and survive a rewrite through the Writer.
func FuzzParse(f *testing.F) {
	seeds := [][]byte{baseFile(f), alignFile(f), deepFile(2), deepFile(MaxDepth)}
	for _, rel := range []string{"models/gguf/stories260K-Q4_0.gguf", "models/gguf/stories260K.gguf", "models/tiny256/tiny256-Q4_K_M.gguf"} {
		if p := shareddata.Find(rel); p != "" {
			seeds = append(seeds, shrink(f, p))
		}
	}
	for _, b := range seeds {
		f.Add(b)
		f.Add(b[:len(b)/2])
		for _, off := range []int{5, 9, 17, 27, 60, len(b) - 40} { // counts, lengths, types
			if off > 0 && off < len(b) {
				c := bytes.Clone(b)
				c[off] ^= 0x81
				f.Add(c)
			}
		}
	}
	// The vocabulary files are large: their first 64 KiB only.
	for _, rel := range []string{"models/vocab/ggml-vocab-llama-spm.gguf", "models/vocab/ggml-vocab-gpt-2.gguf"} {
		if p := shareddata.Find(rel); p != "" {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b[:min(len(b), 64<<10)])
			}
		}
	}
	f.Fuzz(checkParse)
}

// shrink rewrites a model small: arrays cut to 8 elements, the first 6
// tensors cut to one row.
func shrink(tb testing.TB, path string) []byte {
	src, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	w := NewWriter()
	for _, kv := range src.KV {
		v := kv.Value
		if a, ok := v.(Array); ok {
			switch x := a.Values.(type) {
			case []string:
				a.Values = x[:min(8, len(x))]
			case []float32:
				a.Values = x[:min(8, len(x))]
			case []int32:
				a.Values = x[:min(8, len(x))]
			}
			v = a
		}
		must(tb, w.AddKV(kv.Key, v))
	}
	for _, ti := range src.Tensors[:min(6, len(src.Tensors))] {
		shape := make([]uint64, len(ti.Shape))
		for i := range shape {
			shape[i] = 1
		}
		shape[0] = ti.Shape[0]
		data, err := src.TensorData(ti.Name)
		must(tb, err)
		rowBytes, err := ti.Type.RowBytes(int(shape[0]))
		must(tb, err)
		must(tb, w.AddTensor(ti.Name, ti.Type, shape, data[:rowBytes]))
	}
	return writeBytes(tb, w)
}

func checkParse(t *testing.T, data []byte) {
	f, err := Parse(data)
	_, herr := ParseHeader(data, uint64(len(data)))
	if err != nil {
		var fe *FormatError
		if !strings.HasPrefix(err.Error(), "gguf: ") || !errors.As(err, &fe) {
			t.Fatalf("error %T %q", err, err)
		}
		if herr == nil || herr.Error() != err.Error() {
			t.Fatalf("Parse: %v\nParseHeader: %v", err, herr)
		}
		return
	}
	if herr != nil {
		t.Fatalf("ParseHeader failed where Parse succeeded: %v", herr)
	}
	if a := f.Alignment; a == 0 || a&(a-1) != 0 || f.FileSize != uint64(len(data)) || f.DataOffset > f.FileSize {
		t.Fatalf("alignment %d, data offset %d, size %d (buffer %d)", a, f.DataOffset, f.FileSize, len(data))
	}
	for i, kv := range f.KV {
		if got, ok := f.Lookup(kv.Key); !ok || got.Key != kv.Key || f.kvIndex[kv.Key] != i {
			t.Fatalf("Lookup(%q) broken", kv.Key)
		}
	}
	type span struct{ start, end uint64 }
	var spans []span
	for i, ti := range f.Tensors {
		if f.tensorIndex[ti.Name] != i {
			t.Fatalf("Tensor(%q) broken", ti.Name)
		}
		size, err := tensorSize(ti.Type, ti.Shape)
		if err != nil || size != ti.Size || ti.Offset%f.Alignment != 0 {
			t.Fatalf("tensor %+v: size %d, %v", ti, size, err)
		}
		start := f.DataOffset + ti.Offset
		if start < f.DataOffset || start+ti.Size < start || start+ti.Size > uint64(len(data)) || f.DataOffset%f.Alignment != 0 {
			t.Fatalf("tensor %q [%d, +%d) outside a buffer of %d", ti.Name, start, ti.Size, len(data))
		}
		b, err := f.TensorData(ti.Name)
		if err != nil || uint64(len(b)) != ti.Size || &b[0] != &data[start] {
			t.Fatalf("TensorData(%q): %d bytes, %v; want a %d-byte view at %d", ti.Name, len(b), err, ti.Size, start)
		}
		spans = append(spans, span{start, start + ti.Size})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			t.Fatalf("tensors overlap: %v", spans)
		}
	}
	// A header prefix is short or enough, never wrong.
	k := len(data) / 2
	if _, err := ParseHeader(data[:k], uint64(len(data))); err != nil {
		var se *ShortError
		if !errors.As(err, &se) || se.Need <= uint64(k) || se.Need > uint64(len(data)) {
			t.Fatalf("ParseHeader of %d of %d bytes: %v", k, len(data), err)
		}
	}
	// What was read can be written, and writing is a fixed point.
	once := rewrite(t, f)
	g, err := Parse(once)
	if err != nil {
		t.Fatalf("rewritten file refused: %v", err)
	}
	if twice := rewrite(t, g); !bytes.Equal(once, twice) {
		t.Fatal("rewriting is not stable")
	}
}
