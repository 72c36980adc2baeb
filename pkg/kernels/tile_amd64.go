//go:build amd64 && !purego

package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

// tileQFunc is the signature of the quantized tile kernels in
// tile_amd64.s (see there for the layout of the operands). nb is the
// number of blocks per row, at least 1.
type tileQFunc func(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

// qTile is one quantized tile shape: R rows by T tokens.
type qTile struct {
	R, T int
	kern tileQFunc
}

// The tile shapes written for each type; tileQ4_0 and tileQ8_0 are the
// ones MatMul uses (chosen by cycles per row-block-token, see
// BenchmarkTileKernels).
var (
	tilesQ8_0 = []qTile{{2, 4, tileQ8_0x2x4AVX2}, {4, 2, tileQ8_0x4x2AVX2}, {2, 5, tileQ8_0x2x5AVX2}}
	tilesQ4_0 = []qTile{{2, 4, tileQ4_0x2x4AVX2}, {4, 2, tileQ4_0x4x2AVX2}, {2, 5, tileQ4_0x2x5AVX2}}
	tileQ8_0  = tilesQ8_0[0]
	tileQ4_0  = tilesQ4_0[0]
)

// installBatchKernels puts the AVX2 batch kernels into batchKernels.
func installBatchKernels() {
	q8Prep := func(cols int) int { return cols / qk32 }
	batchKernels[tensor.Q8_0] = &batchKernel{
		prepLen: q8Prep, prep: prepQ8_0Scales,
		rows: func(j *matmulJob, lo, hi int) int { return matmulTilesQ(j, lo, hi, tileQ8_0) },
	}
	batchKernels[tensor.Q4_0] = &batchKernel{
		prepLen: q8Prep, prep: prepQ8_0Scales,
		rows: func(j *matmulJob, lo, hi int) int { return matmulTilesQ(j, lo, hi, tileQ4_0) },
	}
	batchKernels[tensor.F16] = &batchKernel{
		prepLen: func(cols int) int { return cols },
		prep:    func(dst []float32, xa []byte) { f16ToF32AVX2(dst, xa) },
		rows:    matmulTilesF16,
	}
}

// matmulTilesQ runs tile shape s over whole tiles of rows in [lo, hi), the
// batch's tokens in groups of s.T and the rest one at a time with the row
// kernels, and returns the first row it left.
func matmulTilesQ(j *matmulJob, lo, hi int, s qTile) int {
	rows, cols, rb, ab, fb := j.m.Rows, j.m.Cols, j.rowBytes, j.ab, j.fb
	nb, bb := cols/qk32, j.m.Type.BlockBytes()
	if nb == 0 {
		return lo
	}
	var r4 [4]float32
	for ; lo+s.R <= hi; lo += s.R {
		w := j.m.Data[lo*rb : (lo+s.R)*rb]
		b := 0
		for ; b+s.T <= j.batch; b += s.T {
			s.kern(nb, &w[0], rb, bb, &j.xa[b*ab], ab, &j.xf[b*fb], 4*fb, &j.out[b*rows+lo], 4*rows)
		}
		for ; b < j.batch; b++ {
			a := j.xa[b*ab : (b+1)*ab]
			if s.R == 4 && j.dot4 != nil {
				j.dot4(cols, w, rb, a, &r4)
				copy(j.out[b*rows+lo:b*rows+lo+4], r4[:])
				continue
			}
			for r := 0; r < s.R; r++ {
				j.out[b*rows+lo+r] = j.k.dot(cols, w[r*rb:(r+1)*rb], a)
			}
		}
	}
	return lo
}

// matmulTilesF16 is matmulTilesQ for F16 weights with tileF16x4x3AVX2 (j.xf
// holds the activations as float32), for rows of a multiple of 8 elements.
func matmulTilesF16(j *matmulJob, lo, hi int) int {
	const R, T = 4, 3
	rows, cols, rb, ab, fb := j.m.Rows, j.m.Cols, j.rowBytes, j.ab, j.fb
	if cols == 0 || cols%8 != 0 {
		return lo
	}
	for ; lo+R <= hi; lo += R {
		w := j.m.Data[lo*rb : (lo+R)*rb]
		b := 0
		for ; b+T <= j.batch; b += T {
			tileF16x4x3AVX2(cols, &w[0], rb, &j.xf[b*fb], 4*fb, &j.out[b*rows+lo], 4*rows)
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
func tileQ8_0x2x4AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileQ4_0x2x4AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileQ8_0x4x2AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileQ4_0x4x2AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileQ8_0x2x5AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileQ4_0x2x5AVX2(nb int, w *byte, rowStride, blockStride int, a *byte, aStride int, sc *float32, scStride int, out *float32, outStride int)

//go:noescape
func tileF16x4x3AVX2(n int, w *byte, rowStride int, a *float32, aStride int, out *float32, outStride int)

//go:noescape
func f16ToF32AVX2(dst []float32, src []byte)

//go:noescape
func quantizeF16AVX2(dst []byte, src []float32)

