package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// magic is "GGUF" as the file's first four bytes.
const magic = "GGUF"

// Lower bounds of an entry's encoded size, used to refuse counts that the
// rest of the file could not hold before anything is allocated for them.
const (
	minKVSize     = 8 + 1 + 4 + 1         // key length, a 1-byte key, type, 1-byte value
	minTensorSize = 8 + 1 + 4 + 8 + 4 + 8 // name length, name, n_dims, one dim, type, offset
)

// FormatError is a malformed file: what was being read (`key "x"`,
// `tensor "y"`, "header"), the byte offset, and what is wrong.
type FormatError struct {
	Path   string // set by Open
	Where  string
	Offset uint64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("gguf: %s: %s at offset %d: %s", e.Path, e.Where, e.Offset, e.Msg)
	}
	return fmt.Sprintf("gguf: %s at offset %d: %s", e.Where, e.Offset, e.Msg)
}

// Parse parses a whole GGUF file held in b. The File refers to b (TensorData
// returns views of it): keep b unchanged while the File is in use.
func Parse(b []byte) (*File, error) {
	f, err := parse(b, uint64(len(b)))
	if err != nil {
		return nil, err
	}
	f.data = b
	return f, nil
}

// ParseHeader parses header, metadata and tensor infos from the first len(b)
// bytes of a file of fileSize bytes, checking tensor bounds against fileSize.
// When b is too short it returns an error wrapping ErrShort, with a
// *ShortError giving the minimum prefix length known to be needed; a caller
// reading over a network grows its window to at least that and retries.
func ParseHeader(b []byte, fileSize uint64) (*File, error) {
	if uint64(len(b)) > fileSize {
		return nil, &FormatError{Where: "header", Msg: fmt.Sprintf("prefix of %d bytes is longer than the file size %d", len(b), fileSize)}
	}
	return parse(b, fileSize)
}

// decoder reads little-endian fields from a prefix b of a file of size bytes.
// Invariant: pos <= len(b) <= size.
type decoder struct {
	b     []byte
	size  uint64
	pos   uint64
	where string
}

func (d *decoder) fail(at uint64, format string, args ...any) error {
	return &FormatError{Where: d.where, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

// need checks that n more bytes exist in the file (else a FormatError) and
// in the prefix held (else a ShortError).
func (d *decoder) need(n uint64, what string) error {
	if n > d.size-d.pos {
		return d.fail(d.pos, "%s needs %d bytes, past end of file (size %d)", what, n, d.size)
	}
	if n > uint64(len(d.b))-d.pos {
		return &ShortError{Need: d.pos + n, msg: fmt.Sprintf("gguf: %s at offset %d", d.where, d.pos)}
	}
	return nil
}

// needCount checks room for count items of at least min bytes each, without
// overflowing.
func (d *decoder) needCount(count, min uint64, what string) error {
	if count > (d.size-d.pos)/min {
		return d.fail(d.pos, "%s: %d entries need at least %d bytes each, past end of file (size %d)", what, count, min, d.size)
	}
	return d.need(count*min, what)
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(d.b[d.pos:])
	d.pos += 4
	return v, nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(d.b[d.pos:])
	d.pos += 8
	return v, nil
}

// str reads a length-prefixed string of at most limit bytes.
func (d *decoder) str(limit uint64, what string) (string, error) {
	at := d.pos
	n, err := d.u64(lengthOf(what))
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", d.fail(at, "%s length %d exceeds the limit of %d bytes", what, n, limit)
	}
	if err := d.need(n, what); err != nil {
		return "", err
	}
	s := string(d.b[d.pos : d.pos+n])
	d.pos += n
	return s, nil
}

// lengthOf names the length field of what without allocating.
func lengthOf(what string) string {
	switch what {
	case "key":
		return "key length"
	case "tensor name":
		return "tensor name length"
	}
	return "string length"
}

// skipStr checks a string value as str does and steps over it.
func (d *decoder) skipStr() (uint64, error) {
	at := d.pos
	n, err := d.u64("string length")
	if err != nil {
		return 0, err
	}
	if n > MaxStringLen {
		return 0, d.fail(at, "string length %d exceeds the limit of %d bytes", n, MaxStringLen)
	}
	if err := d.need(n, "string"); err != nil {
		return 0, err
	}
	d.pos += n
	return n, nil
}

func parse(b []byte, size uint64) (*File, error) {
	d := &decoder{b: b, size: size, where: "header"}
	if err := d.need(4, "magic"); err != nil {
		return nil, err
	}
	if m := string(b[:4]); m != magic {
		return nil, d.fail(0, "not a GGUF file (magic %q)", m)
	}
	d.pos = 4
	version, err := d.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, d.fail(4, "GGUF v1 is not supported")
	case bits.ReverseBytes32(version) == 2 || bits.ReverseBytes32(version) == 3:
		return nil, d.fail(4, "big-endian GGUF v%d is not supported", bits.ReverseBytes32(version))
	default:
		return nil, d.fail(4, "unsupported GGUF version %d", version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("key/value count")
	if err != nil {
		return nil, err
	}
	// Both counts together must fit the rest of the file before either is
	// used as a capacity.
	if err := d.needCount(nKV, minKVSize, "key/value count"); err != nil {
		return nil, err
	}
	if rest := d.size - d.pos - nKV*minKVSize; nTensors > rest/minTensorSize {
		return nil, d.fail(d.pos, "tensor count: %d tensors need at least %d bytes each after %d key/values, past end of file (size %d)", nTensors, minTensorSize, nKV, d.size)
	}
	if err := d.need(nKV*minKVSize+nTensors*minTensorSize, "key/values and tensor infos"); err != nil {
		return nil, err
	}

	f := &File{
		Version:     version,
		KV:          make([]KV, 0, nKV),
		Tensors:     make([]TensorInfo, 0, nTensors),
		Alignment:   DefaultAlignment,
		FileSize:    size,
		kvIndex:     make(map[string]int, nKV),
		tensorIndex: make(map[string]int, nTensors),
	}
	for i := uint64(0); i < nKV; i++ {
		if err := d.kv(f, i); err != nil {
			return nil, err
		}
	}
	for i := uint64(0); i < nTensors; i++ {
		if err := d.tensorInfo(f, i); err != nil {
			return nil, err
		}
	}
	d.where = "header"
	dataOffset, ok := alignUp(d.pos, f.Alignment)
	if !ok || dataOffset > size {
		// A file without tensors may end right after its metadata, unpadded.
		if nTensors > 0 {
			return nil, d.fail(d.pos, "data section at %d (aligned to %d) is past end of file (size %d)", dataOffset, f.Alignment, size)
		}
		dataOffset = size
	}
	f.DataOffset = dataOffset
	if err := checkTensorBounds(f); err != nil {
		return nil, err
	}
	return f, nil
}

// Names in errors are cut to 100 characters: a key may be 64 KiB long.
func (d *decoder) kv(f *File, i uint64) error {
	d.where = fmt.Sprintf("key #%d", i)
	at := d.pos
	key, err := d.str(MaxKeyLen, "key")
	if err != nil {
		return err
	}
	if key == "" {
		return d.fail(at, "empty key")
	}
	d.where = fmt.Sprintf("key %.100q", key)
	if _, dup := f.kvIndex[key]; dup {
		return d.fail(at, "duplicate key")
	}
	typeAt := d.pos
	t, err := d.u32("value type")
	if err != nil {
		return err
	}
	vt := ValueType(t)
	if !vt.Valid() {
		return d.fail(typeAt, "unknown value type %d", t)
	}
	valueAt := d.pos
	v, err := d.value(vt, 0)
	if err != nil {
		return err
	}
	if key == AlignmentKey {
		a, ok := v.(uint32)
		if !ok {
			return d.fail(typeAt, "alignment must be a uint32, not %s", vt)
		}
		if a == 0 || a&(a-1) != 0 {
			return d.fail(valueAt, "alignment %d is not a power of two", a)
		}
		f.Alignment = uint64(a)
	}
	f.kvIndex[key] = len(f.KV)
	f.KV = append(f.KV, KV{Key: key, Type: vt, Value: v})
	return nil
}

// value reads one value of type t inside depth enclosing arrays.
func (d *decoder) value(t ValueType, depth int) (any, error) {
	if t == String {
		return d.str(MaxStringLen, "string")
	}
	if t == TypeArray {
		return d.array(depth + 1)
	}
	at := d.pos
	n := t.fixedSize()
	if err := d.need(n, t.String()); err != nil {
		return nil, err
	}
	p := d.b[d.pos:]
	d.pos += n
	switch t {
	case Uint8:
		return p[0], nil
	case Int8:
		return int8(p[0]), nil
	case Bool:
		if p[0] > 1 {
			return nil, d.fail(at, "bool byte %d is neither 0 nor 1", p[0])
		}
		return p[0] == 1, nil
	case Uint16:
		return binary.LittleEndian.Uint16(p), nil
	case Int16:
		return int16(binary.LittleEndian.Uint16(p)), nil
	case Uint32:
		return binary.LittleEndian.Uint32(p), nil
	case Int32:
		return int32(binary.LittleEndian.Uint32(p)), nil
	case Float32:
		return math.Float32frombits(binary.LittleEndian.Uint32(p)), nil
	case Uint64:
		return binary.LittleEndian.Uint64(p), nil
	case Int64:
		return int64(binary.LittleEndian.Uint64(p)), nil
	case Float64:
		return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
	}
	return nil, d.fail(at, "unknown value type %d", uint32(t))
}

// array reads an array at nesting depth (1 for a top-level array).
func (d *decoder) array(depth int) (Array, error) {
	at := d.pos
	if depth > MaxDepth {
		return Array{}, d.fail(at, "arrays nested deeper than %d", MaxDepth)
	}
	t, err := d.u32("array element type")
	if err != nil {
		return Array{}, err
	}
	elem := ValueType(t)
	if !elem.Valid() {
		return Array{}, d.fail(at, "unknown array element type %d", t)
	}
	countAt := d.pos
	count, err := d.u64("array length")
	if err != nil {
		return Array{}, err
	}
	min := elem.minSize()
	if count > (d.size-d.pos)/min {
		return Array{}, d.fail(countAt, "array of %d %s needs at least %d bytes each, past end of file (size %d)", count, elem, min, d.size)
	}
	if err := d.need(count*min, "array of "+elem.String()); err != nil {
		return Array{}, err
	}
	// From here count*min bytes are in b, which bounds every allocation.
	n := int(count)
	p := d.b[d.pos:]
	a := Array{Elem: elem}
	switch elem {
	case Uint8:
		a.Values = append([]uint8{}, p[:n]...)
	case Int8:
		a.Values = fixed(p, n, 1, func(b []byte) int8 { return int8(b[0]) })
	case Bool:
		v := make([]bool, n)
		for i := range v {
			if p[i] > 1 {
				return Array{}, d.fail(d.pos+uint64(i), "bool byte %d is neither 0 nor 1", p[i])
			}
			v[i] = p[i] == 1
		}
		a.Values = v
	case Uint16:
		a.Values = fixed(p, n, 2, binary.LittleEndian.Uint16)
	case Int16:
		a.Values = fixed(p, n, 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case Uint32:
		a.Values = fixed(p, n, 4, binary.LittleEndian.Uint32)
	case Int32:
		a.Values = fixed(p, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case Float32:
		a.Values = fixed(p, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case Uint64:
		a.Values = fixed(p, n, 8, binary.LittleEndian.Uint64)
	case Int64:
		a.Values = fixed(p, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case Float64:
		a.Values = fixed(p, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	case String:
		// Validate every string, then copy them all in one allocation
		// that the elements share: a vocabulary is tens of thousands.
		start := d.pos
		for range n {
			if _, err := d.skipStr(); err != nil {
				return Array{}, err
			}
		}
		all := string(d.b[start:d.pos])
		v := make([]string, n)
		for i, o := 0, uint64(0); i < n; i++ {
			l := binary.LittleEndian.Uint64(d.b[start+o:])
			v[i] = all[o+8 : o+8+l]
			o += 8 + l
		}
		a.Values = v
		return a, nil
	case TypeArray:
		v := make([]Array, n)
		for i := range v {
			if v[i], err = d.array(depth + 1); err != nil {
				return Array{}, err
			}
		}
		a.Values = v
		return a, nil
	}
	d.pos += count * min
	return a, nil
}

func fixed[T any](p []byte, n, size int, conv func([]byte) T) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = conv(p[i*size:])
	}
	return v
}

func (d *decoder) tensorInfo(f *File, i uint64) error {
	d.where = fmt.Sprintf("tensor #%d", i)
	at := d.pos
	name, err := d.str(MaxKeyLen, "tensor name")
	if err != nil {
		return err
	}
	if name == "" {
		return d.fail(at, "empty tensor name")
	}
	d.where = fmt.Sprintf("tensor %.100q", name)
	if _, dup := f.tensorIndex[name]; dup {
		return d.fail(at, "duplicate tensor name")
	}
	dimsAt := d.pos
	nDims, err := d.u32("dimension count")
	if err != nil {
		return err
	}
	if nDims < 1 || nDims > MaxDims {
		return d.fail(dimsAt, "%d dimensions, want 1 to %d", nDims, MaxDims)
	}
	shape := make([]uint64, nDims)
	for j := range shape {
		if shape[j], err = d.u64("dimension"); err != nil {
			return err
		}
	}
	typeAt := d.pos
	t, err := d.u32("tensor type")
	if err != nil {
		return err
	}
	tt := tensor.Type(t)
	if !tt.Known() {
		if name := tt.String(); name != fmt.Sprintf("type(%d)", t) {
			return d.fail(typeAt, "tensor type %s (%d) is not supported", name, t)
		}
		return d.fail(typeAt, "unknown tensor type %d", t)
	}
	size, err := tensorSize(tt, shape)
	if err != nil {
		return d.fail(dimsAt, "%v", err)
	}
	offAt := d.pos
	off, err := d.u64("data offset")
	if err != nil {
		return err
	}
	if off%f.Alignment != 0 {
		return d.fail(offAt, "data offset %d is not a multiple of the alignment %d", off, f.Alignment)
	}
	f.tensorIndex[name] = len(f.Tensors)
	f.Tensors = append(f.Tensors, TensorInfo{Name: name, Type: tt, Shape: shape, Offset: off, Size: size})
	return nil
}

// checkTensorBounds checks that every tensor's data lies inside the file and
// that no two overlap.
func checkTensorBounds(f *File) error {
	room := f.FileSize - f.DataOffset
	for _, ti := range f.Tensors {
		if ti.Offset > room || ti.Size > room-ti.Offset {
			return &FormatError{Where: fmt.Sprintf("tensor %.100q", ti.Name), Offset: f.DataOffset + ti.Offset,
				Msg: fmt.Sprintf("data [%d, %d) is past end of file (size %d)", f.DataOffset+ti.Offset, f.DataOffset+ti.Offset+ti.Size, f.FileSize)}
		}
	}
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if cur.Offset < prev.Offset+prev.Size {
			return &FormatError{Where: fmt.Sprintf("tensor %.100q", cur.Name), Offset: f.DataOffset + cur.Offset,
				Msg: fmt.Sprintf("data [%d, %d) overlaps tensor %q [%d, %d)",
					f.DataOffset+cur.Offset, f.DataOffset+cur.Offset+cur.Size, prev.Name, f.DataOffset+prev.Offset, f.DataOffset+prev.Offset+prev.Size)}
		}
	}
	return nil
}
