// Package gguf reads and writes GGUF files (versions 2 and 3), the container
// llama.cpp stores models in: a header of typed key/value metadata and tensor
// descriptions, followed by an aligned section of raw tensor data.
//
// The reader is hardened: every length and count in a file is checked against
// the bytes that could hold it before anything is allocated, and every error
// names the key or tensor and the byte offset where it was found.
package gguf

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// ValueType is the type of a metadata value, numbered as in GGUF files.
type ValueType uint32

// The GGUF metadata value types.
const (
	Uint8   ValueType = 0
	Int8    ValueType = 1
	Uint16  ValueType = 2
	Int16   ValueType = 3
	Uint32  ValueType = 4
	Int32   ValueType = 5
	Float32 ValueType = 6
	Bool    ValueType = 7
	String  ValueType = 8
	// TypeArray is the array type id: the name Array is the Go type of an
	// array value.
	TypeArray ValueType = 9
	Uint64    ValueType = 10
	Int64     ValueType = 11
	Float64   ValueType = 12
)

var valueTypeNames = [...]string{
	Uint8: "uint8", Int8: "int8", Uint16: "uint16", Int16: "int16", Uint32: "uint32", Int32: "int32",
	Float32: "float32", Bool: "bool", String: "string", TypeArray: "array", Uint64: "uint64", Int64: "int64",
	Float64: "float64",
}

// String returns the type's name ("uint32"), or "type(N)" for an unknown id.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Valid reports whether t is one of the thirteen GGUF value types.
func (t ValueType) Valid() bool { return t <= Float64 }

// fixedSize is the encoded size of a scalar of type t, 0 for String and Array.
func (t ValueType) fixedSize() uint64 {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	}
	return 0
}

// minSize is the fewest bytes a value of type t can take in a file: a string
// is at least its 8-byte length, an array its 4-byte type and 8-byte count.
func (t ValueType) minSize() uint64 {
	switch t {
	case String:
		return 8
	case TypeArray:
		return 12
	}
	return t.fixedSize()
}

// Array is a metadata array. Values holds a typed slice: []uint8, []int8,
// []uint16, []int16, []uint32, []int32, []float32, []bool, []string,
// []uint64, []int64, []float64, or []Array for nested arrays.
type Array struct {
	Elem   ValueType
	Values any
}

// Len is the number of elements, 0 when Values is not one of the slice types.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return 0
}

// KV is one metadata entry. Value is the Go scalar type of Type (uint8 ..
// float64, bool, string) or an Array.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Type   tensor.Type
	Shape  []uint64 // ggml order: Shape[0] is the row length (ne0)
	Offset uint64   // relative to DataOffset
	Size   uint64   // bytes, from Type and Shape
}

// Elements is the number of elements, the product of Shape.
func (ti TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range ti.Shape {
		n *= d
	}
	return n
}

// Hard limits of the reader (and the writer, so it never writes a file the
// reader refuses).
const (
	MaxStringLen = 1 << 20 // bytes in a string value
	MaxKeyLen    = 1 << 16 // bytes in a key or a tensor name
	MaxDepth     = 8       // nesting of arrays of arrays
	MaxDims      = 4       // ggml's GGML_MAX_DIMS
	// DefaultAlignment applies when general.alignment is absent.
	DefaultAlignment = 32
)

// AlignmentKey is the metadata key that sets the data alignment (a uint32).
const AlignmentKey = "general.alignment"

// ErrShort is wrapped by ParseHeader's error when the prefix it was given is
// too short; errors.As gives the *ShortError with the length needed.
var ErrShort = errors.New("gguf: header prefix too short")

// ShortError says how long a prefix of the file ParseHeader needs at least.
// A longer prefix may turn out to be needed once that much is read.
type ShortError struct {
	Need uint64
	msg  string // where the need was found
}

func (e *ShortError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("gguf: header prefix too short: need at least %d bytes", e.Need)
	}
	return fmt.Sprintf("%s: header prefix too short: need at least %d bytes", e.msg, e.Need)
}

// Unwrap makes errors.Is(err, ErrShort) true.
func (e *ShortError) Unwrap() error { return ErrShort }

// File is a parsed GGUF file. Files from Open and Parse also hold the bytes
// (TensorData, Data); files from ParseHeader hold only the description.
type File struct {
	Version    uint32
	KV         []KV         // file order
	Tensors    []TensorInfo // file order
	Alignment  uint64
	DataOffset uint64 // absolute offset of the tensor data section
	FileSize   uint64

	kvIndex     map[string]int
	tensorIndex map[string]int
	data        []byte       // whole file, nil for ParseHeader results and after Close
	closer      func() error // unmaps, for Open
}

// Close releases the file's memory map, if any. After Close, TensorData
// fails and Data returns nil; slices obtained earlier must not be used.
// Mapped reports whether the tensors are views of a file mapping (Open
// without the read fallback), whose pages mmapfile.Evict may drop.
func (f *File) Mapped() bool { return f.closer != nil }

func (f *File) Close() error {
	f.data = nil
	if c := f.closer; c != nil {
		f.closer = nil
		return c()
	}
	return nil
}

// Data returns the whole file's bytes, nil for ParseHeader results. For a
// file from Open the memory is mapped read-only: writing to it crashes.
func (f *File) Data() []byte { return f.data }

// Lookup returns the entry with the given key.
func (f *File) Lookup(key string) (KV, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return KV{}, false
	}
	return f.KV[i], true
}

// String returns a string value.
func (f *File) String(key string) (string, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return "", false
	}
	s, ok := kv.Value.(string)
	return s, ok
}

// Uint returns an unsigned integer value, or a signed one that is not
// negative.
func (f *File) Uint(key string) (uint64, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	return toUint(kv.Value)
}

// Int returns a signed integer value, or an unsigned one that fits an int64.
func (f *File) Int(key string) (int64, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	return toInt(kv.Value)
}

// Float returns a float32 or float64 value, or an integer one converted.
func (f *File) Float(key string) (float64, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	switch v := kv.Value.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	if i, ok := toInt(kv.Value); ok {
		return float64(i), true
	}
	if u, ok := toUint(kv.Value); ok {
		return float64(u), true
	}
	return 0, false
}

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return false, false
	}
	b, ok := kv.Value.(bool)
	return b, ok
}

func (f *File) array(key string) (Array, bool) {
	kv, ok := f.Lookup(key)
	if !ok {
		return Array{}, false
	}
	a, ok := kv.Value.(Array)
	return a, ok
}

// Strings returns an array of strings. The slice is the File's own: do not
// modify it. Its strings share one copy of the array's bytes (not the
// mapping), so they stay valid after Close.
func (f *File) Strings(key string) ([]string, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Float32s returns an array of float32 (the File's own slice: do not modify
// it), or a float64 array converted.
func (f *File) Float32s(key string) ([]float32, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	switch v := a.Values.(type) {
	case []float32:
		return v, true
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns an array of int32 (the File's own slice: do not modify it),
// or an array of another integer type converted when every element fits.
func (f *File) Int32s(key string) ([]int32, bool) {
	a, ok := f.array(key)
	if !ok {
		return nil, false
	}
	if v, ok := a.Values.([]int32); ok {
		return v, true
	}
	switch v := a.Values.(type) {
	case []uint8:
		return convertInts(v)
	case []int8:
		return convertInts(v)
	case []uint16:
		return convertInts(v)
	case []int16:
		return convertInts(v)
	case []uint32:
		return convertInts(v)
	case []uint64:
		return convertInts(v)
	case []int64:
		return convertInts(v)
	}
	return nil, false
}

func convertInts[T uint8 | int8 | uint16 | int16 | uint32 | uint64 | int64](v []T) ([]int32, bool) {
	out := make([]int32, len(v))
	for i, x := range v {
		// Compare through the view that cannot wrap for x's sign.
		fits := (x >= 0 && uint64(x) <= math.MaxInt32) || (x < 0 && int64(x) >= math.MinInt32)
		if !fits {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

func toUint(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int16:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int32:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	case int64:
		if x < 0 {
			return 0, false
		}
		return uint64(x), true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// End returns the offset just past the last tensor's data: the length of the
// GGUF itself, less than FileSize when other bytes follow it (the rest of a
// disk the model was written to raw).
func (f *File) End() uint64 {
	end := min(f.DataOffset, f.FileSize)
	for _, ti := range f.Tensors {
		end = max(end, f.DataOffset+ti.Offset+ti.Size)
	}
	return end
}

// Tensor returns the description of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorData returns the named tensor's bytes: a view of the file's memory,
// not a copy (read-only for a file from Open). It fails for a file from
// ParseHeader and after Close.
func (f *File) TensorData(name string) ([]byte, error) {
	ti, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: no tensor %q", name)
	}
	if f.data == nil {
		return nil, fmt.Errorf("gguf: tensor %q: no data (header-only or closed file)", name)
	}
	// Parse checked these bounds; check again so a File edited by hand
	// cannot slice out of range.
	start := f.DataOffset + ti.Offset
	end := start + ti.Size
	if start < f.DataOffset || end < start || end > uint64(len(f.data)) {
		return nil, fmt.Errorf("gguf: tensor %q at offset %d: data [%d, %d) outside the file (size %d)", name, start, start, end, len(f.data))
	}
	return f.data[start:end:end], nil
}

// tensorSize is the byte size of a tensor of type t and shape, checking the
// rules a reader and a writer share. It returns a message without context.
func tensorSize(t tensor.Type, shape []uint64) (uint64, error) {
	if !t.Known() {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if len(shape) < 1 || len(shape) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, want 1 to %d", len(shape), MaxDims)
	}
	n := uint64(1)
	for i, d := range shape {
		if d == 0 {
			return 0, fmt.Errorf("dimension %d is 0", i)
		}
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %v: element count overflows", shape)
		}
		n = lo
	}
	bs, bb := uint64(t.BlockSize()), uint64(t.BlockBytes())
	if shape[0]%bs != 0 {
		return 0, fmt.Errorf("type %s: row length %d is not a multiple of the block size %d", t, shape[0], bs)
	}
	hi, size := bits.Mul64(n/bs, bb)
	if hi != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("shape %v: byte size overflows", shape)
	}
	return size, nil
}

// alignUp rounds n up to a multiple of align (a power of two), reporting
// overflow.
func alignUp(n, align uint64) (uint64, bool) {
	r := (n + align - 1) &^ (align - 1)
	return r, r >= n
}
