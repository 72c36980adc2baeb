package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// TestValueTypes writes one value of every type and reads it back with its
// type and value intact, then exercises the typed accessors.
func TestValueTypes(t *testing.T) {
	nested := Array{Elem: TypeArray, Values: []Array{
		{Elem: Int16, Values: []int16{-1, 2}},
		{Elem: String, Values: []string{}},
	}}
	want := []KV{
		{"u8", Uint8, uint8(200)}, {"i8", Int8, int8(-100)}, {"u16", Uint16, uint16(60000)}, {"i16", Int16, int16(-30000)},
		{"u32", Uint32, uint32(4000000000)}, {"i32", Int32, int32(-2000000000)}, {"f32", Float32, float32(1.5)},
		{"t", Bool, true}, {"f", Bool, false}, {"s", String, "héllo\x00"}, {"u64", Uint64, uint64(math.MaxUint64)},
		{"i64", Int64, int64(math.MinInt64)}, {"f64", Float64, math.Pi}, {"nan", Float32, float32(math.NaN())},
		{"au8", TypeArray, Array{Uint8, []uint8{1, 255}}}, {"ai8", TypeArray, Array{Int8, []int8{-1}}},
		{"au16", TypeArray, Array{Uint16, []uint16{7}}}, {"ai16", TypeArray, Array{Int16, []int16{-7}}},
		{"au32", TypeArray, Array{Uint32, []uint32{1, 1 << 31}}}, {"ai32", TypeArray, Array{Int32, []int32{-3, 4}}},
		{"af32", TypeArray, Array{Float32, []float32{0.25, -2}}}, {"ab", TypeArray, Array{Bool, []bool{true, false}}},
		{"as", TypeArray, Array{String, []string{"a", "", "ccc"}}}, {"au64", TypeArray, Array{Uint64, []uint64{1 << 40}}},
		{"ai64", TypeArray, Array{Int64, []int64{-5, 7}}}, {"af64", TypeArray, Array{Float64, []float64{0.5, 1e300}}},
		{"nested", TypeArray, nested}, {"empty", TypeArray, Array{Float32, []float32{}}},
	}
	w := NewWriter()
	for _, kv := range want {
		v := kv.Value
		if a, ok := v.(Array); ok && kv.Key != "nested" {
			v = a.Values // a typed slice becomes an array by itself
		}
		must(t, w.AddKV(kv.Key, v))
	}
	f, err := Parse(writeBytes(t, w))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.KV) != len(want) {
		t.Fatalf("%d keys, want %d", len(f.KV), len(want))
	}
	for i, kv := range f.KV {
		w := want[i]
		if kv.Key == "nan" {
			if x, ok := kv.Value.(float32); !ok || !math.IsNaN(float64(x)) || kv.Type != Float32 {
				t.Errorf("nan: %v %v", kv.Type, kv.Value)
			}
			continue
		}
		if !reflect.DeepEqual(kv, w) {
			t.Errorf("key %d: %#v, want %#v", i, kv, w)
		}
	}

	type res struct {
		v  any
		ok bool
	}
	two := func(v any, ok bool) res { return res{v, ok} }
	for _, c := range []struct {
		name      string
		got, want res
	}{
		{"Uint u8", two(f.Uint("u8")), res{uint64(200), true}},
		{"Uint i8<0", two(f.Uint("i8")), res{uint64(0), false}},
		{"Uint u64", two(f.Uint("u64")), res{uint64(math.MaxUint64), true}},
		{"Uint string", two(f.Uint("s")), res{uint64(0), false}},
		{"Int i32", two(f.Int("i32")), res{int64(-2000000000), true}},
		{"Int u32", two(f.Int("u32")), res{int64(4000000000), true}},
		{"Int u64 too big", two(f.Int("u64")), res{int64(0), false}},
		{"Int absent", two(f.Int("absent")), res{int64(0), false}},
		{"Float f32", two(f.Float("f32")), res{1.5, true}},
		{"Float f64", two(f.Float("f64")), res{math.Pi, true}},
		{"Float i16", two(f.Float("i16")), res{-30000.0, true}},
		{"Float u64", two(f.Float("u64")), res{float64(math.MaxUint64), true}},
		{"Float bool", two(f.Float("t")), res{0.0, false}},
		{"Bool", two(f.Bool("t")), res{true, true}},
		{"Bool u8", two(f.Bool("u8")), res{false, false}},
		{"String", two(f.String("s")), res{"héllo\x00", true}},
		{"String u8", two(f.String("u8")), res{"", false}},
		{"Strings", two(f.Strings("as")), res{[]string{"a", "", "ccc"}, true}},
		{"Strings of ints", two(f.Strings("ai32")), res{[]string(nil), false}},
		{"Strings scalar", two(f.Strings("s")), res{[]string(nil), false}},
		{"Float32s", two(f.Float32s("af32")), res{[]float32{0.25, -2}, true}},
		{"Float32s from f64", two(f.Float32s("af64")), res{[]float32{0.5, float32(math.Inf(1))}, true}},
		{"Float32s of ints", two(f.Float32s("ai32")), res{[]float32(nil), false}},
		{"Int32s", two(f.Int32s("ai32")), res{[]int32{-3, 4}, true}},
		{"Int32s from i8", two(f.Int32s("ai8")), res{[]int32{-1}, true}},
		{"Int32s from u8", two(f.Int32s("au8")), res{[]int32{1, 255}, true}},
		{"Int32s from i64", two(f.Int32s("ai64")), res{[]int32{-5, 7}, true}},
		{"Int32s u32 too big", two(f.Int32s("au32")), res{[]int32(nil), false}},
		{"Int32s u64 too big", two(f.Int32s("au64")), res{[]int32(nil), false}},
		{"Int32s of floats", two(f.Int32s("af32")), res{[]int32(nil), false}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		t    ValueType
		want string
	}{{Uint8, "uint8"}, {TypeArray, "array"}, {Float64, "float64"}, {13, "type(13)"}} {
		if c.t.String() != c.want {
			t.Errorf("ValueType(%d).String() = %q", c.t, c.t.String())
		}
	}
}

func TestWriterErrors(t *testing.T) {
	deep := Array{Elem: Uint8, Values: []uint8{}}
	for range MaxDepth {
		deep = Array{Elem: TypeArray, Values: []Array{deep}}
	}
	w := NewWriter()
	must(t, w.AddKV("k", "v"))
	must(t, w.AddTensor("x", tensor.F32, []uint64{4}, make([]byte, 16)))
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"plain int", w.AddKV("n", 5), `gguf: key "n": int values have no GGUF type: use a sized integer (int32, uint32, ...)`},
		{"unsupported type", w.AddKV("n", []int{1}), `gguf: key "n": []int values have no GGUF type`},
		{"duplicate key", w.AddKV("k", "w"), `gguf: key "k": duplicate key`},
		{"empty key", w.AddKV("", "w"), `gguf: empty key`},
		{"long string", w.AddKV("s", strings.Repeat("x", MaxStringLen+1)), `gguf: key "s": string length 1048577 exceeds the limit of 1048576 bytes`},
		{"long string element", w.AddKV("s", []string{"", strings.Repeat("x", MaxStringLen+1)}), `gguf: key "s": string 1: length 1048577 exceeds the limit of 1048576 bytes`},
		{"element mismatch", w.AddKV("a", Array{Elem: Int32, Values: []uint32{1}}), `gguf: key "a": array of int32 holds []uint32`},
		{"nil values", w.AddKV("a", Array{Elem: Int32}), `gguf: key "a": array values of Go type <nil> are not a GGUF array`},
		{"too deep", w.AddKV("a", deep), `gguf: key "a": element 0: element 0: element 0: element 0: element 0: element 0: element 0: element 0: arrays nested deeper than 8`},
		{"alignment type", w.AddKV(AlignmentKey, uint64(64)), `gguf: key "general.alignment": alignment must be a uint32, not uint64`},
		{"alignment 24", w.AddKV(AlignmentKey, uint32(24)), `gguf: key "general.alignment": alignment 24 is not a power of two`},
		{"data length", w.AddTensor("y", tensor.F32, []uint64{4}, make([]byte, 15)), `gguf: tensor "y": 15 bytes of data, want 16 for F32 [4]`},
		{"duplicate tensor", w.AddTensor("x", tensor.F32, []uint64{4}, make([]byte, 16)), `gguf: tensor "x": duplicate tensor name`},
		{"unknown type", w.AddTensor("y", tensor.Type(99), []uint64{4}, nil), `gguf: tensor "y": unknown tensor type 99`},
		{"5 dims", w.AddTensor("y", tensor.F32, []uint64{1, 1, 1, 1, 1}, nil), `gguf: tensor "y": 5 dimensions, want 1 to 4`},
		{"zero dim", w.AddTensor("y", tensor.F32, []uint64{4, 0}, nil), `gguf: tensor "y": dimension 1 is 0`},
		{"partial block", w.AddTensor("y", tensor.Q4_K, []uint64{128}, nil), `gguf: tensor "y": type Q4_K: row length 128 is not a multiple of the block size 256`},
		{"nil func", w.AddTensorFunc("y", tensor.F32, []uint64{4}, nil), `gguf: tensor "y": nil write func`},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.name, c.err, c.want)
		}
	}
	// The refused additions left the Writer as it was.
	f, err := Parse(writeBytes(t, w))
	if err != nil || len(f.KV) != 1 || len(f.Tensors) != 1 {
		t.Errorf("after refusals: %v, %d keys, %d tensors", err, len(f.KV), len(f.Tensors))
	}
	w.Version = 1
	if _, err := w.WriteTo(io.Discard); err == nil {
		t.Error("wrote version 1")
	}
}

// TestWriterLayout checks alignment, padding, version 2 and streamed data.
func TestWriterLayout(t *testing.T) {
	w := NewWriter()
	w.Version = 2
	must(t, w.AddKV(AlignmentKey, uint32(64)))
	must(t, w.AddKV("general.architecture", "llama"))
	q := pattern(2 * 34) // two Q8_0 blocks
	must(t, w.AddTensor("q", tensor.Q8_0, []uint64{64}, q))
	big := pattern(3 * 256 * 4)
	must(t, w.AddTensorFunc("streamed", tensor.F32, []uint64{256, 3}, func(out io.Writer) error {
		for i := 0; i < len(big); i += 1000 { // in pieces, as a generator would
			if _, err := out.Write(big[i:min(i+1000, len(big))]); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, w.AddTensor("h", tensor.F16, []uint64{3}, pattern(6)))
	data := writeBytes(t, w)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || f.Alignment != 64 || f.DataOffset%64 != 0 || len(data)%64 != 0 {
		t.Errorf("version %d, alignment %d, data at %d, size %d", f.Version, f.Alignment, f.DataOffset, len(data))
	}
	wantOffsets := []uint64{0, 128, 128 + 3072}
	for i, c := range []struct {
		name string
		data []byte
	}{{"q", q}, {"streamed", big}, {"h", pattern(6)}} {
		ti := f.Tensors[i]
		got, err := f.TensorData(c.name)
		if ti.Name != c.name || ti.Offset != wantOffsets[i] || err != nil || !bytes.Equal(got, c.data) {
			t.Errorf("tensor %d: %+v, %v", i, ti, err)
		}
	}
	// Padding is zeros.
	for _, r := range [][2]uint64{{f.DataOffset + 68, f.DataOffset + 128}, {f.DataOffset + 3206, uint64(len(data))}} {
		if !bytes.Equal(data[r[0]:r[1]], make([]byte, r[1]-r[0])) {
			t.Errorf("padding [%d, %d) is not zeros", r[0], r[1])
		}
	}

	for _, c := range []struct {
		name string
		fn   func(io.Writer) error
		want string
	}{
		{"short", func(o io.Writer) error { _, err := o.Write(make([]byte, 15)); return err }, `gguf: tensor "x": write func wrote 15 bytes, want 16`},
		{"long", func(o io.Writer) error { _, err := o.Write(make([]byte, 17)); return err }, `gguf: tensor "x": write func wrote more than the tensor's size`},
		{"failing", func(io.Writer) error { return errors.New("generator broke") }, `gguf: tensor "x": generator broke`},
	} {
		w := NewWriter()
		must(t, w.AddTensorFunc("x", tensor.F32, []uint64{4}, c.fn))
		if _, err := w.WriteTo(io.Discard); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	w := NewWriter()
	must(t, w.AddKV("general.architecture", "llama"))
	must(t, w.AddTensor("a", tensor.F32, []uint64{2}, pattern(8)))
	must(t, WriteFile(path, w))
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.TensorData("a"); !bytes.Equal(got, pattern(8)) {
		t.Errorf("read back %v", got)
	}
	f.Close()

	bad := NewWriter()
	must(t, bad.AddTensorFunc("a", tensor.F32, []uint64{2}, func(io.Writer) error { return errors.New("boom") }))
	failed := filepath.Join(dir, "failed.gguf")
	if err := WriteFile(failed, bad); err == nil || err.Error() != `gguf: tensor "a": boom` {
		t.Errorf("WriteFile: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "m.gguf" {
		t.Errorf("directory holds %v, want only m.gguf", entries)
	}
}
