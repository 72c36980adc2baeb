// Package kernels holds the numeric kernels of the forward pass: ggml's block
// quantization formats (encode, decode, dot product), the matrix-vector
// product over a pool of workers, and the small vector operations (RMS norm,
// softmax, SiLU, RoPE).
//
// Everything here is plain scalar Go written to give the same bits as
// ggml's C code, so it doubles as the reference that faster paths are tested
// against. Weight quantizers and dequantizers follow ggml-quants.c (what
// llama-quantize writes). Where llama.cpp's x86 build computes differently
// from ggml's generic C at run time, and the reference logits show it, this
// package follows the x86 build: activation quantization (activation.go),
// the Q8_0 and Q4_0 dot products (eight lanes of four products, fused
// multiply-adds, hsum_float_8), and SwiGLU's vectorised exp. With these,
// llmboot's logits on the Q8_0 and Q4_0 reference files equal llama.cpp's
// bit for bit. A faster implementation of one type replaces that type's
// entry in the kernel table (see typeKernels); callers do not change.
//
// Kernel paths (dispatch.go): the generic Go code above is PathGeneric and
// runs everywhere. On amd64, PathAVX2 (AVX2+FMA+F16C, assembly in
// *_amd64.s) replaces the dot products of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, F16, BF16 and F32 and the Q8_0 activation quantizer; the
// package picks the best path the CPU has at start-up, and
// LLMBOOT_KERNELS=generic|avx2|avx512 forces one. The quantized kernels
// and the quantizer give the generic bits exactly (same integer sums, same
// float operations in the same order); F16 sums in tinyBLAS's sixteen
// float32 lanes, as llama.cpp's x86 matrix products do, F32 and BF16 in 32 lanes,
// and both differ from the generic float64 sums by rounding only (see
// floatDotTolerance in the tests). PathAVX512 is selected on AVX-512 CPUs
// and runs the AVX2 kernels, except that on CPUs with AVX512_VNNI the
// Q4_0/Q8_0 quad kernels and batch tile take vpdpbusd (same bits; tested
// on an emulated Ice Lake by firmware/bochs.sh, as this project's
// machines lack AVX-512). For Q3_K, Q4_K, Q5_K and Q6_K weights MatMul on
// the AVX2 path quantizes the activations straight into a lane-major
// layout (quantkx.go) and runs kernels that take one, four or eight
// activation rows against a weight row (dotkx_amd64.s, pool_kquant.go):
// the same bits, with each weight block decoded once per group of tokens.
//
// Batches (tile*.go): for two or more activation rows MatMul runs a
// type's batch kernel where the path has one (AVX2: Q8_0, Q4_0, F16),
// which computes tiles of weight rows times tokens so each weight block
// is decoded once per tile rather than once per token. Every output keeps
// the bits of the path's dot product for its type, so a prompt evaluated
// as a batch gives the logits it gives a token at a time.
//
// Layouts (layout.go): a Matrix is in ggml's row order unless the loader
// repacked it (Repack, as PreferredLayout says): LayoutQuads, Q4_0 and
// Q8_0 interleaved by row quads, the four scales of a block side by side,
// which the quad kernels (quads_amd64.s) read as one stream; or
// LayoutLaneMajor, Q3_K, Q4_K, Q5_K and Q6_K with each 32-byte chunk of
// levels stored in the lane-major order, which the lane-major kernels'
// twins (dotkxp_amd64.s) read without shuffling. The arithmetic, and so every
// bit, is the same in every layout.
//
// Bit-exactness note: Go may fuse x*y+z into one FMA on some targets
// (arm64, or amd64 built with GOAMD64=v3); ggml's reference C code, as
// built, rounds the product first. Products that feed an addition are
// therefore written float32(x*y), an explicit conversion that forbids the
// fusion, also where the product is first stored in a variable (the
// compiler fuses across statements). Check: building with GOAMD64=v3 or
// GOARCH=arm64 and -gcflags=-S shows no FMA instruction outside explicit
// math.FMA calls.
package kernels

import (
	"fmt"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// typeKernel is what this package knows about one weight or activation type.
type typeKernel struct {
	act      tensor.Type                        // ggml's vec_dot_type
	dot      func(n int, w, act []byte) float32 // nil: not a weight type here
	dequant  func(dst []float32, src []byte)    // len(dst) whole blocks
	quantize func(dst []byte, src []float32)    // len(src) whole blocks
}

// typeKernels is indexed by tensor.Type; a zero entry means unsupported.
// A faster implementation for a type slots in by replacing its functions
// (and must keep the bits, which the tests check against these).
var typeKernels [int(tensor.BF16) + 1]typeKernel

// initTypeKernels fills typeKernels with the generic kernels; the
// package's init (dispatch.go) calls it before choosing a path.
func initTypeKernels() {
	typeKernels[tensor.F32] = typeKernel{tensor.F32, dotF32, dequantF32, quantizeF32}
	typeKernels[tensor.F16] = typeKernel{tensor.F16, dotF16, dequantF16, quantizeF16}
	typeKernels[tensor.BF16] = typeKernel{tensor.BF16, dotBF16, dequantBF16, quantizeBF16}
	typeKernels[tensor.Q4_0] = typeKernel{tensor.Q8_0, dotQ4_0, dequantQ4_0, quantizeQ4_0}
	typeKernels[tensor.Q4_1] = typeKernel{tensor.Q8_1, dotQ4_1, dequantQ4_1, quantizeQ4_1}
	typeKernels[tensor.Q5_0] = typeKernel{tensor.Q8_0, dotQ5_0, dequantQ5_0, quantizeQ5_0}
	typeKernels[tensor.Q5_1] = typeKernel{tensor.Q8_1, dotQ5_1, dequantQ5_1, quantizeQ5_1}
	typeKernels[tensor.Q8_0] = typeKernel{tensor.Q8_0, dotQ8_0, dequantQ8_0, quantizeQ8_0}
	typeKernels[tensor.Q8_1] = typeKernel{tensor.Q8_1, nil, dequantQ8_1, quantizeQ8_1}
	typeKernels[tensor.Q2_K] = typeKernel{tensor.Q8_K, dotQ2_K, dequantQ2_K, quantizeQ2_K}
	typeKernels[tensor.Q3_K] = typeKernel{tensor.Q8_K, dotQ3_K, dequantQ3_K, quantizeQ3_K}
	typeKernels[tensor.Q4_K] = typeKernel{tensor.Q8_K, dotQ4_K, dequantQ4_K, quantizeQ4_K}
	typeKernels[tensor.Q5_K] = typeKernel{tensor.Q8_K, dotQ5_K, dequantQ5_K, quantizeQ5_K}
	typeKernels[tensor.Q6_K] = typeKernel{tensor.Q8_K, dotQ6_K, dequantQ6_K, quantizeQ6_K}
	typeKernels[tensor.Q8_K] = typeKernel{tensor.Q8_K, nil, dequantQ8_K, quantizeQ8_K}
}

func kernelOf(t tensor.Type) *typeKernel {
	if int(t) < 0 || int(t) >= len(typeKernels) {
		return nil
	}
	k := &typeKernels[t]
	if k.dequant == nil {
		return nil
	}
	return k
}

// Supported reports whether t is a weight type with a dequantizer and a dot
// product here: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K. (Q8_1 and Q8_K are activation formats only.)
func Supported(t tensor.Type) bool {
	k := kernelOf(t)
	return k != nil && k.dot != nil
}

// ActivationType is the type ggml converts activations to before a dot
// product with weights of type w (ggml's vec_dot_type): F32, F16 and BF16
// pair with themselves, Q4_0/Q5_0/Q8_0 with Q8_0, Q4_1/Q5_1 with Q8_1, the
// k-quants with Q8_K. For a type Supported rejects it returns F32.
func ActivationType(w tensor.Type) tensor.Type {
	if !Supported(w) {
		return tensor.F32
	}
	return typeKernels[w].act
}

// Matrix is a weight matrix: Rows rows of Cols elements of Type, each row
// Type.RowBytes(Cols) bytes, in Data in the order Layout says (row after
// row unless repacked, see RepackQuads).
type Matrix struct {
	Type       tensor.Type
	Rows, Cols int
	Data       []byte
	Layout     Layout
}

// RowBytes is the size in bytes of one row (0 for an unknown type).
func (m Matrix) RowBytes() int {
	bs := m.Type.BlockSize()
	if bs == 0 {
		return 0
	}
	return m.Cols / bs * m.Type.BlockBytes()
}

// Row returns the bytes of row i, or nil when i is out of range, Data is
// too short or the matrix is repacked (not LayoutRows).
func (m Matrix) Row(i int) []byte {
	rb := m.RowBytes()
	if i < 0 || i >= m.Rows || (i+1)*rb > len(m.Data) || m.Layout != LayoutRows {
		return nil
	}
	return m.Data[i*rb : (i+1)*rb : (i+1)*rb]
}

// Validate checks that the type is known, Cols is a whole number of blocks
// and Data holds exactly Rows rows.
func (m Matrix) Validate() error {
	if !m.Type.Known() {
		return fmt.Errorf("kernels: matrix %dx%d: unknown type %s", m.Rows, m.Cols, m.Type)
	}
	if m.Rows < 0 || m.Cols <= 0 {
		return fmt.Errorf("kernels: matrix %s %dx%d: bad shape", m.Type, m.Rows, m.Cols)
	}
	rb, err := m.Type.RowBytes(m.Cols)
	if err != nil {
		return fmt.Errorf("kernels: matrix %s %dx%d: %w", m.Type, m.Rows, m.Cols, err)
	}
	if want := m.Rows * rb; len(m.Data) != want {
		return fmt.Errorf("kernels: matrix %s %dx%d: data is %d bytes, want %d (%d rows of %d bytes)",
			m.Type, m.Rows, m.Cols, len(m.Data), want, m.Rows, rb)
	}
	switch m.Layout {
	case LayoutRows:
	case LayoutQuads:
		if !quadTypes[m.Type] || m.Rows%4 != 0 {
			return fmt.Errorf("kernels: matrix %s %dx%d: no %s layout for this type and row count", m.Type, m.Rows, m.Cols, m.Layout)
		}
	case LayoutLaneMajor:
		if laneMajorChunks[m.Type] == nil {
			return fmt.Errorf("kernels: matrix %s %dx%d: no %s layout for this type", m.Type, m.Rows, m.Cols, m.Layout)
		}
	default:
		return fmt.Errorf("kernels: matrix %s %dx%d: unknown %s", m.Type, m.Rows, m.Cols, m.Layout)
	}
	return nil
}

// DequantizeRow decodes len(dst) elements of type t from src into dst.
// len(dst) must be a whole number of blocks and src must hold at least
// t.RowBytes(len(dst)) bytes. Every Supported type decodes, and so do the
// activation formats Q8_0, Q8_1 and Q8_K.
func DequantizeRow(t tensor.Type, dst []float32, src []byte) error {
	k := kernelOf(t)
	if k == nil {
		return fmt.Errorf("kernels: dequantize: type %s not supported", t)
	}
	need, err := t.RowBytes(len(dst))
	if err != nil {
		return fmt.Errorf("kernels: dequantize: %w", err)
	}
	if len(src) < need {
		return fmt.Errorf("kernels: dequantize %s: %d elements need %d bytes, have %d", t, len(dst), need, len(src))
	}
	k.dequant(dst, src[:need])
	return nil
}

// QuantizeRow encodes src as type t into dst, which must hold at least
// t.RowBytes(len(src)) bytes; len(src) must be a whole number of blocks.
// The encoders are ggml's reference ones (quantize_row_*_ref, which
// llama-quantize uses without an importance matrix), byte for byte.
func QuantizeRow(t tensor.Type, dst []byte, src []float32) error {
	k := kernelOf(t)
	if k == nil {
		return fmt.Errorf("kernels: quantize: type %s not supported", t)
	}
	need, err := t.RowBytes(len(src))
	if err != nil {
		return fmt.Errorf("kernels: quantize: %w", err)
	}
	if len(dst) < need {
		return fmt.Errorf("kernels: quantize %s: %d elements need %d bytes, have %d", t, len(src), need, len(dst))
	}
	k.quantize(dst[:need], src)
	return nil
}

// VecDot is the dot product of n elements of a weight row of type w with an
// activation row already in ActivationType(w), computed as ggml's scalar
// ggml_vec_dot_<w>_<act> does (integer sums per block, then scaled). It
// returns NaN when w is not Supported, n is not a whole number of blocks,
// or a row is too short, rather than panicking.
func VecDot(w tensor.Type, n int, wrow, act []byte) float32 {
	if !Supported(w) {
		return nan32
	}
	k := &typeKernels[w]
	wb, err := w.RowBytes(n)
	if err != nil {
		return nan32
	}
	ab, err := k.act.RowBytes(n)
	if err != nil || len(wrow) < wb || len(act) < ab {
		return nan32
	}
	return k.dot(n, wrow[:wb], act[:ab])
}
