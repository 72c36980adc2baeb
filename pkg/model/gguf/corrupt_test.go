package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/internal/shareddata"
	"github.com/llmboot/llmboot/pkg/tensor"
)

// baseFile is a small valid file whose layout the corruption table patches:
//
//	  0 magic, 4 version, 8 tensor count (2), 16 key count (3)
//	 24 "general.architecture": key length, 32 key, 52 type, 56 length, 64 "llama"
//	 69 "ids": key length, 77 key, 80 type, 84 element type, 88 count, 96 three uint32
//	108 "idx": key length, 116 key, 119 type, 123 uint8
//	124 tensor "a": name length, 132 name, 133 n_dims, 137 dim, 145 type, 149 offset
//	157 tensor "b": name length, 165 name, 166 n_dims, 170 dims, 186 type, 190 offset
//	198 end of header, 224 data: "a" [224, 256), "b" [256, 320)
func baseFile(tb testing.TB) []byte {
	tb.Helper()
	w := NewWriter()
	must(tb, w.AddKV("general.architecture", "llama"))
	must(tb, w.AddKV("ids", []uint32{1, 2, 3}))
	must(tb, w.AddKV("idx", uint8(7)))
	must(tb, w.AddTensor("a", tensor.F32, []uint64{8}, pattern(32)))
	must(tb, w.AddTensor("b", tensor.F32, []uint64{8, 2}, pattern(64)))
	return writeBytes(tb, w)
}

// alignFile sets general.alignment 64:
//
//	24 key length, 32 "general.alignment", 49 type, 53 value
//	57 tensor "a": name length, 65 name, 66 n_dims, 70 dim, 78 type, 82 offset
//	90 end of header, 128 data "a" [128, 160), padded to 192
func alignFile(tb testing.TB) []byte {
	tb.Helper()
	w := NewWriter()
	must(tb, w.AddKV(AlignmentKey, uint32(64)))
	must(tb, w.AddTensor("a", tensor.F32, []uint64{8}, pattern(32)))
	return writeBytes(tb, w)
}

// deepFile holds one key "deep" with depth nested arrays (innermost an empty
// uint8 array); the array at depth k starts at offset 40+12(k-1).
func deepFile(depth int) []byte {
	var b []byte
	b = append(b, "GGUF"...)
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint64(b, 1)
	b = binary.LittleEndian.AppendUint64(b, 4)
	b = append(b, "deep"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(TypeArray))
	for range depth - 1 {
		b = binary.LittleEndian.AppendUint32(b, uint32(TypeArray))
		b = binary.LittleEndian.AppendUint64(b, 1)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(Uint8))
	return binary.LittleEndian.AppendUint64(b, 0)
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

func writeBytes(tb testing.TB, w *Writer) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// patch returns a copy of b with edits applied.
type edit func([]byte) []byte

func put32(off int, v uint32) edit {
	return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
}
func put64(off int, v uint64) edit {
	return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[off:], v); return b }
}
func putStr(off int, s string) edit {
	return func(b []byte) []byte { copy(b[off:], s); return b }
}
func trunc(n int) edit { return func(b []byte) []byte { return b[:n] } }

func TestBaseLayout(t *testing.T) {
	for _, c := range []struct {
		name             string
		b                []byte
		dataOffset, size uint64
	}{
		{"base", baseFile(t), 224, 320},
		{"align", alignFile(t), 128, 192},
	} {
		f, err := Parse(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if f.DataOffset != c.dataOffset || f.FileSize != c.size {
			t.Fatalf("%s: data offset %d, size %d; the tables below assume %d, %d", c.name, f.DataOffset, f.FileSize, c.dataOffset, c.size)
		}
	}
	for depth := 1; depth <= MaxDepth; depth++ {
		f, err := Parse(deepFile(depth))
		if err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		kv, _ := f.Lookup("deep")
		v, d := kv.Value, 0
		for a, ok := v.(Array); ok; a, ok = v.(Array) {
			d++
			if inner, isNested := a.Values.([]Array); isNested && len(inner) == 1 {
				v = inner[0]
			} else {
				v = a.Values
			}
		}
		if d != depth || !reflect.DeepEqual(v, []uint8{}) {
			t.Errorf("depth %d parsed as %d, innermost %#v", depth, d, v)
		}
	}
}

func TestCorrupt(t *testing.T) {
	for _, c := range []struct {
		name  string
		base  func(testing.TB) []byte
		edits []edit
		want  string
	}{
		{"bad magic", baseFile, []edit{putStr(0, "GGML")}, `gguf: header at offset 0: not a GGUF file (magic "GGML")`},
		{"v1", baseFile, []edit{put32(4, 1)}, `gguf: header at offset 4: GGUF v1 is not supported`},
		{"v4", baseFile, []edit{put32(4, 4)}, `gguf: header at offset 4: unsupported GGUF version 4`},
		{"big-endian", baseFile, []edit{put32(4, 3<<24)}, `gguf: header at offset 4: big-endian GGUF v3 is not supported`},
		{"huge tensor count", baseFile, []edit{put64(8, 1<<62)}, `gguf: header at offset 24: tensor count: 4611686018427387904 tensors need at least 33 bytes each after 3 key/values, past end of file (size 320)`},
		{"huge key count", baseFile, []edit{put64(16, 1<<62)}, `gguf: header at offset 24: key/value count: 4611686018427387904 entries need at least 14 bytes each, past end of file (size 320)`},
		{"huge key length", baseFile, []edit{put64(24, 1<<40)}, `gguf: key #0 at offset 24: key length 1099511627776 exceeds the limit of 65536 bytes`},
		{"empty key", baseFile, []edit{put64(24, 0)}, `gguf: key #0 at offset 24: empty key`},
		{"unknown value type", baseFile, []edit{put32(52, 13)}, `gguf: key "general.architecture" at offset 52: unknown value type 13`},
		{"huge string length", baseFile, []edit{put64(56, 1<<40)}, `gguf: key "general.architecture" at offset 56: string length 1099511627776 exceeds the limit of 1048576 bytes`},
		{"string past EOF", baseFile, []edit{put64(56, 1000)}, `gguf: key "general.architecture" at offset 64: string needs 1000 bytes, past end of file (size 320)`},
		{"unknown element type", baseFile, []edit{put32(84, 99)}, `gguf: key "ids" at offset 84: unknown array element type 99`},
		{"huge array count", baseFile, []edit{put64(88, 1<<62)}, `gguf: key "ids" at offset 88: array of 4611686018427387904 uint32 needs at least 4 bytes each, past end of file (size 320)`},
		{"array count past EOF", baseFile, []edit{put64(88, 57)}, `gguf: key "ids" at offset 88: array of 57 uint32 needs at least 4 bytes each, past end of file (size 320)`},
		{"string element too long", baseFile, []edit{put32(84, uint32(String))}, `gguf: key "ids" at offset 96: string length 8589934593 exceeds the limit of 1048576 bytes`},
		{"duplicate key", baseFile, []edit{putStr(118, "s")}, `gguf: key "ids" at offset 108: duplicate key`},
		{"bad bool", baseFile, []edit{put32(119, uint32(Bool))}, `gguf: key "idx" at offset 123: bool byte 7 is neither 0 nor 1`},
		{"empty tensor name", baseFile, []edit{put64(124, 0)}, `gguf: tensor #0 at offset 124: empty tensor name`},
		{"duplicate tensor", baseFile, []edit{putStr(165, "a")}, `gguf: tensor "a" at offset 157: duplicate tensor name`},
		{"5 dims", baseFile, []edit{put32(133, 5)}, `gguf: tensor "a" at offset 133: 5 dimensions, want 1 to 4`},
		{"0 dims", baseFile, []edit{put32(133, 0)}, `gguf: tensor "a" at offset 133: 0 dimensions, want 1 to 4`},
		{"zero dim", baseFile, []edit{put64(137, 0)}, `gguf: tensor "a" at offset 133: dimension 0 is 0`},
		{"element overflow", baseFile, []edit{put64(170, 1<<40), put64(178, 1<<40)}, `gguf: tensor "b" at offset 166: shape [1099511627776 1099511627776]: element count overflows`},
		{"unknown type", baseFile, []edit{put32(145, 99)}, `gguf: tensor "a" at offset 145: unknown tensor type 99`},
		{"retired type", baseFile, []edit{put32(145, 4)}, `gguf: tensor "a" at offset 145: unknown tensor type 4`},
		{"unsupported type", baseFile, []edit{put32(145, 16)}, `gguf: tensor "a" at offset 145: tensor type IQ2_XXS (16) is not supported`},
		{"partial block", baseFile, []edit{put32(145, uint32(tensor.Q8_0))}, `gguf: tensor "a" at offset 133: type Q8_0: row length 8 is not a multiple of the block size 32`},
		{"misaligned offset", baseFile, []edit{put64(190, 40)}, `gguf: tensor "b" at offset 190: data offset 40 is not a multiple of the alignment 32`},
		{"overlap", baseFile, []edit{put64(149, 32), put64(190, 0)}, `gguf: tensor "a" at offset 256: data [256, 288) overlaps tensor "b" [224, 288)`},
		{"same offset", baseFile, []edit{put64(190, 0)}, `gguf: tensor "b" at offset 224: data [224, 288) overlaps tensor "a" [224, 256)`},
		{"tensor past EOF", baseFile, []edit{put64(190, 96)}, `gguf: tensor "b" at offset 320: data [320, 384) is past end of file (size 320)`},
		{"huge offset", baseFile, []edit{put64(190, 1<<63)}, `gguf: tensor "b" at offset 9223372036854776032: data [9223372036854776032, 9223372036854776096) is past end of file (size 320)`},
		{"truncated data", baseFile, []edit{trunc(300)}, `gguf: tensor "b" at offset 256: data [256, 320) is past end of file (size 300)`},
		{"truncated padding", baseFile, []edit{trunc(200)}, `gguf: header at offset 198: data section at 224 (aligned to 32) is past end of file (size 200)`},
		{"truncated tensor info", baseFile, []edit{trunc(190)}, `gguf: tensor "b" at offset 190: data offset needs 8 bytes, past end of file (size 190)`},
		{"truncated key/values", baseFile, []edit{trunc(100)}, `gguf: header at offset 24: tensor count: 2 tensors need at least 33 bytes each after 3 key/values, past end of file (size 100)`},
		{"alignment 48", alignFile, []edit{put32(53, 48)}, `gguf: key "general.alignment" at offset 53: alignment 48 is not a power of two`},
		{"alignment 0", alignFile, []edit{put32(53, 0)}, `gguf: key "general.alignment" at offset 53: alignment 0 is not a power of two`},
		{"alignment int32", alignFile, []edit{put32(49, uint32(Int32))}, `gguf: key "general.alignment" at offset 49: alignment must be a uint32, not int32`},
		{"misaligned to 64", alignFile, []edit{put64(82, 32)}, `gguf: tensor "a" at offset 82: data offset 32 is not a multiple of the alignment 64`},
		{"nested 9 deep", func(testing.TB) []byte { return deepFile(9) }, nil, `gguf: key "deep" at offset 136: arrays nested deeper than 8`},
	} {
		b := c.base(t)
		for _, e := range c.edits {
			b = e(b)
		}
		_, err := Parse(b)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.name, err, c.want)
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *FormatError", c.name, err)
		}
		// The header parse agrees, for errors found before the data.
		if _, herr := ParseHeader(b, uint64(len(b))); herr == nil || herr.Error() != c.want {
			t.Errorf("%s: ParseHeader: %v", c.name, herr)
		}
	}
}

// TestTruncated cuts files at many lengths: each prefix is refused as
// running past the end of the file.
func TestTruncated(t *testing.T) {
	check := func(name string, data []byte, step int) {
		n := 0
		for k := 0; k < len(data); k += step {
			_, err := Parse(data[:k])
			if err == nil || !strings.HasPrefix(err.Error(), "gguf: ") || !strings.Contains(err.Error(), "past end of file") {
				t.Fatalf("%s cut at %d: %v", name, k, err)
			}
			n++
		}
		t.Logf("%s: %d truncations refused", name, n)
	}
	check("base", baseFile(t), 1)
	check("align", alignFile(t)[:160], 1) // the final padding is optional
	data, err := os.ReadFile(shareddata.Path(t, "models/gguf/stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	check("stories260K header", data[:14200], 3)
	check("stories260K", data, 4099)
}

// TestParseHeaderGrowing feeds ParseHeader ever longer prefixes, each as
// long as the last ShortError asked, until it succeeds.
func TestParseHeaderGrowing(t *testing.T) {
	for _, c := range []struct {
		rel    string
		double bool // grow at least 2x: following every string one by one is quadratic
	}{
		{"models/gguf/stories260K.gguf", false},
		{"models/vocab/ggml-vocab-llama-spm.gguf", true},
	} {
		data, err := os.ReadFile(shareddata.Path(t, c.rel))
		if err != nil {
			t.Fatal(err)
		}
		full, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		size := uint64(len(data))
		var n uint64
		steps := 0
		var f *File
		for {
			f, err = ParseHeader(data[:n], size)
			var se *ShortError
			if !errors.As(err, &se) {
				break
			}
			if !errors.Is(err, ErrShort) || se.Need <= n || se.Need > full.DataOffset {
				t.Fatalf("%s: prefix %d: need %d (data at %d): %v", c.rel, n, se.Need, full.DataOffset, err)
			}
			if c.double {
				n = min(max(se.Need, 2*n), size)
			} else {
				n = se.Need
			}
			steps++
		}
		if err != nil {
			t.Fatalf("%s: prefix %d: %v", c.rel, n, err)
		}
		if !c.double {
			// Each Need was exact, so one byte less must still be short.
			if _, err := ParseHeader(data[:n-1], size); !errors.Is(err, ErrShort) {
				t.Errorf("%s: %d bytes parsed, %d gives %v", c.rel, n, n-1, err)
			}
		}
		if f.Data() != nil || !reflect.DeepEqual(f.KV, full.KV) || !reflect.DeepEqual(f.Tensors, full.Tensors) ||
			f.DataOffset != full.DataOffset || f.Alignment != full.Alignment || f.FileSize != full.FileSize {
			t.Errorf("%s: header parse differs from the full parse", c.rel)
		}
		for _, ti := range f.Tensors {
			if _, err := f.TensorData(ti.Name); err == nil {
				t.Errorf("%s: header-only TensorData(%q) succeeded", c.rel, ti.Name)
			}
		}
		t.Logf("%s: parsed from a %d-byte prefix after %d short tries", c.rel, n, steps)
	}
	if _, err := ParseHeader(make([]byte, 10), 5); err == nil {
		t.Error("a prefix longer than the file was accepted")
	}
}
