//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// tileQFunc is the signature of the quantized tile kernels in
// tile_amd64.s (see there for the layout of the operands). nb is the
// number of blocks per row, at least 1.
type tileQFunc func(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

// qTile is one quantized tile shape: R rows by T tokens.
type qTile struct {
	R, T int
	kern tileQFunc
}

// The tile shapes written for each type, for the benchmarks and tests;
// MatMul runs tileQSplit2x4AVX2 (see matmulTilesSplit) and tileQ4_0 where
// a Q4_0 row is too long for the expansion buffer.
var (
	tilesQ8_0 = []qTile{{2, 4, tileQ8_0x2x4AVX2}, {4, 2, tileQ8_0x4x2AVX2}, {2, 5, tileQ8_0x2x5AVX2}}
	tilesQ4_0 = []qTile{{2, 4, tileQ4_0x2x4AVX2}, {4, 2, tileQ4_0x4x2AVX2}, {2, 5, tileQ4_0x2x5AVX2}}
	tileQ4_0  = tilesQ4_0[0]
)

// installBatchKernels puts the AVX2 batch kernels into batchKernels.
func installBatchKernels() {
	q8Prep := func(cols int) int { return cols / qk32 }
	batchKernels[tensor.Q8_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesSplit}
	batchKernels[tensor.Q4_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesSplit}
	batchKernels[tensor.F16] = &batchKernel{
		prepLen: func(cols int) int { return cols },
		prep: func(j *matmulJob, b int) {
			f16ToF32AVX2(j.xf[b*j.fb:(b+1)*j.fb], j.xa[b*j.ab:(b+1)*j.ab])
		},
		rows: matmulTilesF16,
	}
}

// maxExpandBlocks bounds the Q4_0 rows matmulTilesSplit expands (on the
// stack): 8192 elements.
const maxExpandBlocks = 256

// splitGroup is how many rows matmulTilesSplit takes through each group
// of four tokens (in pairs): the four tokens' activation blocks, read
// from L2, are then reused from L1 by all of them.
var splitGroup = 4

// matmulTilesSplit runs tileQSplit2x4AVX2 over row pairs in [lo, hi) for
// Q8_0 and Q4_0 weights (Q4_0 rows expanded to signed bytes first, once
// for the whole batch), the batch's tokens in fours and the rest one at a
// time with the row kernel, and returns the first row it left.
func matmulTilesSplit(j *matmulJob, lo, hi int) int {
	const R, T, maxGroup = 2, 4, 4
	rows, cols, rb, ab := j.m.Rows, j.m.Cols, j.rowBytes, j.ab
	nb, bb := cols/qk32, j.m.Type.BlockBytes()
	q4 := j.m.Type == tensor.Q4_0
	if nb == 0 || q4 && nb > maxExpandBlocks {
		if q4 {
			return matmulTilesQ(j, lo, hi, tileQ4_0)
		}
		return lo
	}
	var buf [maxGroup * maxExpandBlocks * qk32]byte
	for lo+R <= hi {
		g := min(splitGroup, maxGroup, (hi-lo)&^1)
		w := j.m.Data[lo*rb : (lo+g)*rb]
		wq, qRow, qBlock := &w[2], rb, bb
		if q4 {
			for r := 0; r < g; r++ {
				expandQ4_0AVX2(nb, &buf[r*nb*qk32], &w[r*rb], bb)
			}
			wq, qRow, qBlock = &buf[0], nb*qk32, qk32
		}
		b := 0
		for ; b+T <= j.batch; b += T {
			for r := 0; r < g; r += R {
				tileQSplit2x4AVX2(nb, (*byte)(unsafe.Add(unsafe.Pointer(wq), r*qRow)), qRow, qBlock, &w[r*rb], rb, bb,
					&j.xa[b*ab], ab, &j.xf[b], 4*j.batch, &j.out[b*rows+lo+r], 4*rows)
			}
		}
		for ; b < j.batch; b++ {
			a := j.xa[b*ab : (b+1)*ab]
			for r := 0; r < g; r++ {
				j.out[b*rows+lo+r] = j.k.dot(cols, w[r*rb:(r+1)*rb], a)
			}
		}
		lo += g
	}
	return lo
}

// matmulTilesQ runs tile shape s over whole tiles of rows in [lo, hi), the
// batch's tokens in groups of s.T and the rest one at a time with the row
// kernels, and returns the first row it left.
func matmulTilesQ(j *matmulJob, lo, hi int, s qTile) int {
	rows, cols, rb, ab := j.m.Rows, j.m.Cols, j.rowBytes, j.ab
	nb, bb := cols/qk32, j.m.Type.BlockBytes()
	if nb == 0 {
		return lo
	}
	for ; lo+s.R <= hi; lo += s.R {
		w := j.m.Data[lo*rb : (lo+s.R)*rb]
		b := 0
		for ; b+s.T <= j.batch; b += s.T {
			s.kern(nb, &w[0], rb, bb, &j.xa[b*ab], ab, &j.xf[b], 4*j.batch, &j.out[b*rows+lo], 4*rows)
		}
		for ; b < j.batch; b++ {
			a := j.xa[b*ab : (b+1)*ab]
			for r := 0; r < s.R; r++ {
				j.out[b*rows+lo+r] = j.k.dot(cols, w[r*rb:(r+1)*rb], a)
			}
		}
	}
	return lo
}

// matmulTilesF16 runs tileF16x2x3AVX2 (j.xf holds the activations as
// float32) as matmulTilesQ runs its tiles, for rows of a multiple of 16
// elements: each output is dotF16AVX2's, bit for bit.
func matmulTilesF16(j *matmulJob, lo, hi int) int {
	const R, T = 2, 3
	rows, cols, rb, ab, fb := j.m.Rows, j.m.Cols, j.rowBytes, j.ab, j.fb
	if cols == 0 || cols%16 != 0 {
		return lo
	}
	for ; lo+R <= hi; lo += R {
		w := j.m.Data[lo*rb : (lo+R)*rb]
		b := 0
		for ; b+T <= j.batch; b += T {
			tileF16x2x3AVX2(cols, &w[0], rb, &j.xf[b*fb], 4*fb, &j.out[b*rows+lo], 4*rows)
		}
		for ; b < j.batch; b++ {
			a := j.xa[b*ab : (b+1)*ab]
			for r := 0; r < R; r++ {
				j.out[b*rows+lo+r] = j.k.dot(cols, w[r*rb:(r+1)*rb], a)
			}
		}
	}
	return lo
}

// quantizeF16Vec is quantizeF16 eight values at a time.
func quantizeF16Vec(dst []byte, src []float32) {
	n := len(src) &^ 7
	quantizeF16AVX2(dst[:2*n], src[:n])
	quantizeF16(dst[2*n:], src[n:])
}

// Implemented in tile_amd64.s.

//go:noescape
func tileQ8_0x2x4AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQ4_0x2x4AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQ8_0x4x2AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQ4_0x4x2AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQ8_0x2x5AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQ4_0x2x5AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileF16x2x3AVX2(n int, w *byte, rowStride int, a *float32, aStride int, out *float32, outStride int)

//go:noescape
func f16ToF32AVX2(dst []float32, src []byte)

//go:noescape
func quantizeF16AVX2(dst []byte, src []float32)

//go:noescape
func tileQSplit2x4AVX2(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func expandQ4_0AVX2(nb int, dst *byte, src *byte, blockStride int)
