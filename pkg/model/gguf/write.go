package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// Writer builds a GGUF file: metadata and tensors in the order added. It
// lays the file out as ggml does (tensor data aligned, each tensor padded
// with zeros to the alignment), so parsing a ggml-written file and writing
// it back reproduces its bytes. It keeps references to the values and data
// given to it until WriteTo.
type Writer struct {
	Version uint32 // 3 by default; 2 is also allowed (the layout is the same)

	kvs     []KV
	keys    map[string]bool
	tensors []pendingTensor
	names   map[string]bool
}

type pendingTensor struct {
	info  TensorInfo
	data  []byte
	write func(io.Writer) error // instead of data
}

// NewWriter returns an empty version-3 Writer.
func NewWriter() *Writer { return &Writer{Version: 3} }

// AddKV adds a metadata entry, its ValueType inferred from the Go type of v:
// uint8 .. float64, bool and string are scalars; an Array is an array; typed
// slices ([]string, []float32, []int32, ..., []Array) become arrays. Plain
// int is refused: GGUF needs the width spelled out.
func (w *Writer) AddKV(key string, v any) error {
	if err := checkName(key, "key"); err != nil {
		return err
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: key %q: duplicate key", key)
	}
	t, v, err := valueOf(v)
	if err != nil {
		return fmt.Errorf("gguf: key %q: %w", key, err)
	}
	if key == AlignmentKey {
		a, ok := v.(uint32)
		if !ok {
			return fmt.Errorf("gguf: key %q: alignment must be a uint32, not %s", key, t)
		}
		if a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("gguf: key %q: alignment %d is not a power of two", key, a)
		}
	}
	if w.keys == nil {
		w.keys = make(map[string]bool)
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{Key: key, Type: t, Value: v})
	return nil
}

func checkName(name, what string) error {
	if name == "" {
		return fmt.Errorf("gguf: empty %s", what)
	}
	if len(name) > MaxKeyLen {
		return fmt.Errorf("gguf: %s %.40q...: length %d exceeds the limit of %d bytes", what, name, len(name), MaxKeyLen)
	}
	return nil
}

// valueOf maps a Go value to its GGUF type, wrapping typed slices in Array.
func valueOf(v any) (ValueType, any, error) {
	switch x := v.(type) {
	case uint8:
		return Uint8, x, nil
	case int8:
		return Int8, x, nil
	case uint16:
		return Uint16, x, nil
	case int16:
		return Int16, x, nil
	case uint32:
		return Uint32, x, nil
	case int32:
		return Int32, x, nil
	case float32:
		return Float32, x, nil
	case bool:
		return Bool, x, nil
	case string:
		if len(x) > MaxStringLen {
			return 0, nil, fmt.Errorf("string length %d exceeds the limit of %d bytes", len(x), MaxStringLen)
		}
		return String, x, nil
	case uint64:
		return Uint64, x, nil
	case int64:
		return Int64, x, nil
	case float64:
		return Float64, x, nil
	case Array:
		if err := checkArray(x, 1); err != nil {
			return 0, nil, err
		}
		return TypeArray, x, nil
	case int, uint:
		return 0, nil, fmt.Errorf("%T values have no GGUF type: use a sized integer (int32, uint32, ...)", v)
	}
	if elem, ok := sliceElem(v); ok {
		a := Array{Elem: elem, Values: v}
		if err := checkArray(a, 1); err != nil {
			return 0, nil, err
		}
		return TypeArray, a, nil
	}
	return 0, nil, fmt.Errorf("%T values have no GGUF type", v)
}

// sliceElem is the element type of a typed slice an Array may hold.
func sliceElem(v any) (ValueType, bool) {
	switch v.(type) {
	case []uint8:
		return Uint8, true
	case []int8:
		return Int8, true
	case []uint16:
		return Uint16, true
	case []int16:
		return Int16, true
	case []uint32:
		return Uint32, true
	case []int32:
		return Int32, true
	case []float32:
		return Float32, true
	case []bool:
		return Bool, true
	case []string:
		return String, true
	case []uint64:
		return Uint64, true
	case []int64:
		return Int64, true
	case []float64:
		return Float64, true
	case []Array:
		return TypeArray, true
	}
	return 0, false
}

// checkArray checks that a's Values match Elem and the reader's limits.
func checkArray(a Array, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("arrays nested deeper than %d", MaxDepth)
	}
	elem, ok := sliceElem(a.Values)
	if !ok {
		return fmt.Errorf("array values of Go type %T are not a GGUF array", a.Values)
	}
	if elem != a.Elem {
		return fmt.Errorf("array of %s holds %T", a.Elem, a.Values)
	}
	switch x := a.Values.(type) {
	case []string:
		for i, s := range x {
			if len(s) > MaxStringLen {
				return fmt.Errorf("string %d: length %d exceeds the limit of %d bytes", i, len(s), MaxStringLen)
			}
		}
	case []Array:
		for i, sub := range x {
			if err := checkArray(sub, depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
	}
	return nil
}

// AddTensor adds a tensor whose bytes are data (len(data) must be the size
// that t and shape give).
func (w *Writer) AddTensor(name string, t tensor.Type, shape []uint64, data []byte) error {
	info, err := w.addInfo(name, t, shape)
	if err != nil {
		return err
	}
	if uint64(len(data)) != info.Size {
		return fmt.Errorf("gguf: tensor %q: %d bytes of data, want %d for %s %v", name, len(data), info.Size, t, shape)
	}
	w.commit(pendingTensor{info: info, data: data})
	return nil
}

// AddTensorFunc adds a tensor whose bytes write produces during WriteTo, so
// multi-GB synthetic models are streamed rather than held in memory. write
// must write exactly the tensor's size in bytes.
func (w *Writer) AddTensorFunc(name string, t tensor.Type, shape []uint64, write func(io.Writer) error) error {
	if write == nil {
		return fmt.Errorf("gguf: tensor %q: nil write func", name)
	}
	info, err := w.addInfo(name, t, shape)
	if err != nil {
		return err
	}
	w.commit(pendingTensor{info: info, write: write})
	return nil
}

func (w *Writer) addInfo(name string, t tensor.Type, shape []uint64) (TensorInfo, error) {
	if err := checkName(name, "tensor name"); err != nil {
		return TensorInfo{}, err
	}
	if w.names[name] {
		return TensorInfo{}, fmt.Errorf("gguf: tensor %q: duplicate tensor name", name)
	}
	size, err := tensorSize(t, shape)
	if err != nil {
		return TensorInfo{}, fmt.Errorf("gguf: tensor %q: %w", name, err)
	}
	return TensorInfo{Name: name, Type: t, Shape: append([]uint64(nil), shape...), Size: size}, nil
}

func (w *Writer) commit(p pendingTensor) {
	if w.names == nil {
		w.names = make(map[string]bool)
	}
	w.names[p.info.Name] = true
	w.tensors = append(w.tensors, p)
}

// alignment is general.alignment if added (AddKV checked it), else 32.
func (w *Writer) alignment() uint64 {
	for _, kv := range w.kvs {
		if kv.Key == AlignmentKey {
			return uint64(kv.Value.(uint32))
		}
	}
	return DefaultAlignment
}

// WriteTo writes the file: header, metadata, tensor infos, then the tensor
// data in AddTensor order, each tensor starting on and padded to the
// alignment (general.alignment if set, else 32). A file without tensors
// ends right after its metadata, as llama.cpp's vocabulary files do.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	version := w.Version
	if version == 0 {
		version = 3
	}
	if version != 2 && version != 3 {
		return 0, fmt.Errorf("gguf: cannot write version %d (only 2 and 3)", version)
	}
	align := w.alignment()
	var off uint64
	for i := range w.tensors {
		t := &w.tensors[i]
		t.info.Offset = off
		var ok bool
		if off, ok = alignUp(off+t.info.Size, align); !ok || off > math.MaxInt64 {
			return 0, fmt.Errorf("gguf: tensor %q: data section overflows", t.info.Name)
		}
	}

	cw := &countWriter{w: out}
	bw := bufio.NewWriterSize(cw, 64<<10)
	e := encoder{w: bw}
	e.bytes([]byte(magic))
	e.u32(version)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Type))
		e.value(kv.Type, kv.Value)
	}
	for _, t := range w.tensors {
		e.str(t.info.Name)
		e.u32(uint32(len(t.info.Shape)))
		for _, d := range t.info.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.info.Type))
		e.u64(t.info.Offset)
	}
	if e.err != nil {
		return cw.n, fmt.Errorf("gguf: %w", e.err)
	}
	if len(w.tensors) > 0 {
		// Header bytes so far: written through cw plus still in bw.
		if err := pad(bw, uint64(cw.n)+uint64(bw.Buffered()), align); err != nil {
			return cw.n, fmt.Errorf("gguf: %w", err)
		}
	}
	for _, t := range w.tensors {
		if t.write != nil {
			lw := &exactWriter{w: bw, left: t.info.Size}
			if err := t.write(lw); err != nil {
				return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, err)
			}
			if lw.left != 0 {
				return cw.n, fmt.Errorf("gguf: tensor %q: write func wrote %d bytes, want %d", t.info.Name, t.info.Size-lw.left, t.info.Size)
			}
		} else if _, err := bw.Write(t.data); err != nil {
			return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, err)
		}
		if err := pad(bw, t.info.Size, align); err != nil {
			return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("gguf: %w", err)
	}
	return cw.n, nil
}

var zeros [256]byte

// pad writes the zeros that take n up to a multiple of align.
func pad(w io.Writer, n, align uint64) error {
	k := (align - n%align) % align
	for k > 0 {
		c := min(k, uint64(len(zeros)))
		if _, err := w.Write(zeros[:c]); err != nil {
			return err
		}
		k -= c
	}
	return nil
}

// WriteFile writes w to path through path+".tmp" and a rename, so an error
// leaves nothing half-written at path.
func WriteFile(path string, w *Writer) (err error) {
	tmp := path + ".tmp"
	fh, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	defer func() {
		if err != nil {
			fh.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = w.WriteTo(fh); err != nil {
		return err
	}
	if err = fh.Sync(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if err = fh.Close(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

var errTooLong = errors.New("write func wrote more than the tensor's size")

// exactWriter passes at most left bytes on to w.
type exactWriter struct {
	w    io.Writer
	left uint64
}

func (e *exactWriter) Write(p []byte) (int, error) {
	if uint64(len(p)) > e.left {
		return 0, errTooLong
	}
	n, err := e.w.Write(p)
	e.left -= uint64(n)
	return n, err
}

// encoder writes little-endian fields, keeping the first error.
type encoder struct {
	w   *bufio.Writer
	err error
	buf [8]byte
}

func (e *encoder) bytes(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) u8(v uint8) {
	if e.err == nil {
		e.err = e.w.WriteByte(v)
	}
}

func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.bytes(e.buf[:2])
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:8])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) value(t ValueType, v any) {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case string:
		e.str(x)
	case Array:
		e.array(x)
	default:
		// AddKV admits only the types above.
		if e.err == nil {
			e.err = fmt.Errorf("value of Go type %T for %s", v, t)
		}
	}
}

func (e *encoder) array(a Array) {
	e.u32(uint32(a.Elem))
	e.u64(uint64(a.Len()))
	switch x := a.Values.(type) {
	case []uint8:
		e.bytes(x)
	case []int8:
		for _, v := range x {
			e.u8(uint8(v))
		}
	case []bool:
		for _, v := range x {
			e.value(Bool, v)
		}
	case []uint16:
		for _, v := range x {
			e.u16(v)
		}
	case []int16:
		for _, v := range x {
			e.u16(uint16(v))
		}
	case []uint32:
		for _, v := range x {
			e.u32(v)
		}
	case []int32:
		for _, v := range x {
			e.u32(uint32(v))
		}
	case []float32:
		for _, v := range x {
			e.u32(math.Float32bits(v))
		}
	case []uint64:
		for _, v := range x {
			e.u64(v)
		}
	case []int64:
		for _, v := range x {
			e.u64(uint64(v))
		}
	case []float64:
		for _, v := range x {
			e.u64(math.Float64bits(v))
		}
	case []string:
		for _, v := range x {
			e.str(v)
		}
	case []Array:
		for _, v := range x {
			e.array(v)
		}
	}
}
