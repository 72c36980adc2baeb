package kernels

import (
	"encoding/binary"
	"unsafe"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// The k-quant kernels' lane layout ("Q8_K lane-major"): MatMul converts
// each Q8_K activation row, once, into a layout that lets a SIMD kernel keep
// ggml's lanes (element index mod 8 of a super-block, see addLanes) without
// shuffling the activations for every weight row, and whose 32-byte loads
// never cross a cache line.
//
// A block is lmBlockBytes (288) bytes: the Q8_K block's f32 d at 0, the 8
// group sums at 4..19 (int16, the sum of the 32 values of group k:
// bsums[2k]+bsums[2k+1]), zeros to 32, then the 256 values from byte 32.
// In each group of 32 values (one Q4_K sub-block, two Q6_K ones) byte 4l+t
// of the group holds value l+8t (l = 0..7, t = 0..3): every 4 bytes belong
// to one lane, lane l at bytes 4l..4l+3. A weight row whose bytes are put
// in the same order then yields the lane sums directly: vpmaddubsw's pairs
// and vpmaddwd's pairs of pairs never mix two lanes. MatMul keeps these
// rows 32-byte aligned.
//
// The group sums are exact for every row quantizeQ8_K writes (|sum| <=
// 32*127); a hand-made block whose bsums do not fit them is outside the
// layout.

// lmBlockBytes is the size of one lane-major block.
const lmBlockBytes = 288

// kquantKernels is one weight type's MatMul kernels over the lane-major
// layout, where the active path has them.
type kquantKernels struct {
	// dot is the dot product of one weight row with one lane-major
	// activation row: exactly the generic dot's bits on the Q8_K row.
	dot func(n int, w, a []byte) float32
	// rows, if not nil, is dot for len(out) weight rows wstride bytes
	// apart: out[r] gets row r's dot.
	rows func(n int, w []byte, wstride int, a []byte, out []float32)
	// dot4 is dot for four activation rows, astride bytes apart,
	// against one weight row (decoded once): out[i] gets row i's dot.
	dot4 func(n int, w []byte, a []byte, astride int, out *[4]float32)
	// dot8 does the same for eight activation rows (nil: none), with g
	// the eight rows' lmGroupFill data.
	dot8 func(n int, w []byte, a []byte, astride int, g []byte, out *[8]float32)
	// quantize, if not nil, writes the lane-major row of src directly:
	// the bytes of quantizeQ8_K followed by laneMajorQ8K.
	quantize func(dst []byte, src []float32)
	// packed, if not nil, is the same kernels for weights in
	// LayoutLaneMajor (the one activation quantizer for both).
	packed *kquantKernels
}

// kquantMatmul holds, per weight type, the active path's kernels over the
// lane-major layout (nil: MatMul uses the type's ordinary dot).
var kquantMatmul [len(typeKernels)]*kquantKernels

// laneMajorQ8K converts the Q8_K row src (whole blocks) into the
// lane-major row dst, which needs len(src)/292*288 bytes.
func laneMajorQ8K(dst, src []byte) {
	for b := 0; b < len(src)/q8_KBytes; b++ {
		x := src[b*q8_KBytes : (b+1)*q8_KBytes]
		y := dst[b*lmBlockBytes : (b+1)*lmBlockBytes]
		copy(y[:4], x[:4])
		for k := 0; k < 8; k++ {
			s := int16(binary.LittleEndian.Uint16(x[260+4*k:])) + int16(binary.LittleEndian.Uint16(x[262+4*k:]))
			binary.LittleEndian.PutUint16(y[4+2*k:], uint16(s))
			q, g := y[32+32*k:64+32*k], x[4+32*k:36+32*k]
			for l := 0; l < 8; l++ {
				for t := 0; t < 4; t++ {
					q[4*l+t] = g[l+8*t]
				}
			}
		}
		clear(y[20:32])
	}
}

// fromLaneMajorQ8K writes into dst (len(a)/288*292 bytes) a Q8_K row that
// every k-quant dot product reads as the lane-major row a: the values back
// in order, and bsums[2k] = group sum k, bsums[2k+1] = 0 (the generic Q4_K
// and Q5_K dots use bsums only through the sum of a pair, which shares one
// min). It is the twin's way back to the generic kernels.
func fromLaneMajorQ8K(dst, a []byte) {
	for b := 0; b < len(a)/lmBlockBytes; b++ {
		x := a[b*lmBlockBytes : (b+1)*lmBlockBytes]
		y := dst[b*q8_KBytes : (b+1)*q8_KBytes]
		copy(y[:4], x[:4])
		for k := 0; k < 8; k++ {
			for l := 0; l < 8; l++ {
				for t := 0; t < 4; t++ {
					y[4+32*k+l+8*t] = x[32+32*k+4*l+t]
				}
			}
			copy(y[260+4*k:], x[4+2*k:6+2*k])
			y[262+4*k], y[263+4*k] = 0, 0
		}
	}
}

// dotKLaneMajorGeneric is the scalar twin of a lane-major kernel: the
// generic dot of type w on the Q8_K row the lane-major row stands for.
func dotKLaneMajorGeneric(w tensor.Type, n int, wrow, a []byte) float32 {
	y := make([]byte, len(a)/lmBlockBytes*q8_KBytes)
	fromLaneMajorQ8K(y, a)
	return genericKernels[w].dot(n, wrow, y)
}

// alignedBytes returns n zero bytes that start on a 64-byte boundary (Go's
// heap does not move objects).
func alignedBytes(n int) []byte {
	b := make([]byte, n+63)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & 63)
	return b[off : off+n : off+n]
}

// lmGroupBlockBytes is the size of one block of an eight-row group's
// side data: the rows' f32 d (row t at 4t), then four 32-byte registers,
// register j holding row t's group sums 2j and 2j+1 (int16) at 4t.
const lmGroupBlockBytes = 160

// lmGroupFill copies row t (0..7) of an eight-row group's side data from
// its lane-major row lm (nb blocks) into g.
func lmGroupFill(g, lm []byte, nb, t int) {
	for i := 0; i < nb; i++ {
		x, y := lm[i*lmBlockBytes:], g[i*lmGroupBlockBytes:]
		copy(y[4*t:4*t+4], x[:4])
		for j := 0; j < 4; j++ {
			copy(y[32+32*j+4*t:32+32*j+4*t+4], x[4+4*j:8+4*j])
		}
	}
}
