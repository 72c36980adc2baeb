// Package tensor names the ggml tensor types and their block layouts.
//
// Every file format (GGUF, llama2.c, SafeTensors) and every kernel speaks in
// these types, so they live here, below both.
package tensor

import "fmt"

// Type is a ggml tensor type, numbered as in ggml.h and GGUF files.
type Type uint32

// The ggml type ids. Gaps are ids ggml has retired.
const (
	F32  Type = 0
	F16  Type = 1
	Q4_0 Type = 2
	Q4_1 Type = 3
	Q5_0 Type = 6
	Q5_1 Type = 7
	Q8_0 Type = 8
	Q8_1 Type = 9
	Q2_K Type = 10
	Q3_K Type = 11
	Q4_K Type = 12
	Q5_K Type = 13
	Q6_K Type = 14
	Q8_K Type = 15
	I8   Type = 24
	I16  Type = 25
	I32  Type = 26
	I64  Type = 27
	F64  Type = 28
	BF16 Type = 30
)

// QK_K is the super-block size of the k-quants.
const QK_K = 256

type layout struct {
	name       string
	blockSize  int // elements per block
	blockBytes int // bytes per block
}

// layouts is indexed by Type (an array, not a map: the kernels ask for
// block sizes in their inner loops); a zero entry is an unknown type.
var layouts = [BF16 + 1]layout{
	F32:  {"F32", 1, 4},
	F16:  {"F16", 1, 2},
	BF16: {"BF16", 1, 2},
	F64:  {"F64", 1, 8},
	I8:   {"I8", 1, 1},
	I16:  {"I16", 1, 2},
	I32:  {"I32", 1, 4},
	I64:  {"I64", 1, 8},
	Q4_0: {"Q4_0", 32, 2 + 16},
	Q4_1: {"Q4_1", 32, 2 + 2 + 16},
	Q5_0: {"Q5_0", 32, 2 + 4 + 16},
	Q5_1: {"Q5_1", 32, 2 + 2 + 4 + 16},
	Q8_0: {"Q8_0", 32, 2 + 32},
	Q8_1: {"Q8_1", 32, 2 + 2 + 32},
	Q2_K: {"Q2_K", QK_K, QK_K/16 + QK_K/4 + 2 + 2},
	Q3_K: {"Q3_K", QK_K, QK_K/8 + QK_K/4 + 12 + 2},
	Q4_K: {"Q4_K", QK_K, 2 + 2 + 12 + QK_K/2},
	Q5_K: {"Q5_K", QK_K, 2 + 2 + 12 + QK_K/8 + QK_K/2},
	Q6_K: {"Q6_K", QK_K, QK_K/2 + QK_K/4 + QK_K/16 + 2},
	Q8_K: {"Q8_K", QK_K, 4 + QK_K + QK_K/16*2},
}

// layoutOf returns t's layout and whether t is known.
func layoutOf(t Type) (layout, bool) {
	if t >= Type(len(layouts)) || layouts[t].blockSize == 0 {
		return layout{}, false
	}
	return layouts[t], true
}

// Known reports whether t is a type whose layout this package knows.
func (t Type) Known() bool { _, ok := layoutOf(t); return ok }

// otherNames are ggml types whose layout llmboot does not implement; named
// so that a refusal says which type a file uses.
var otherNames = map[Type]string{
	16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
	23: "IQ4_XS", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}

// String returns ggml's name for t ("Q4_K"), or "type(N)" for an id ggml
// does not have.
func (t Type) String() string {
	if l, ok := layoutOf(t); ok {
		return l.name
	}
	if name, ok := otherNames[t]; ok {
		return name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize is the number of elements in one block of t (1 for plain types),
// 0 for an unknown type.
func (t Type) BlockSize() int { l, _ := layoutOf(t); return l.blockSize }

// BlockBytes is the size in bytes of one block of t, 0 for an unknown type.
func (t Type) BlockBytes() int { l, _ := layoutOf(t); return l.blockBytes }

// RowBytes is the size in bytes of n consecutive elements of type t. It fails
// for an unknown type or when n is not a whole number of blocks.
func (t Type) RowBytes(n int) (int, error) {
	l, ok := layoutOf(t)
	if !ok {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if n < 0 || n%l.blockSize != 0 {
		return 0, fmt.Errorf("%s: %d elements is not a multiple of the block size %d", l.name, n, l.blockSize)
	}
	return n / l.blockSize * l.blockBytes, nil
}

// ParseType maps a ggml type name ("q4_k", "F16") to its Type.
func ParseType(name string) (Type, error) {
	for t, l := range layouts {
		if l.blockSize > 0 && equalFold(l.name, name) {
			return Type(t), nil
		}
	}
	return 0, fmt.Errorf("unknown tensor type %q", name)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
