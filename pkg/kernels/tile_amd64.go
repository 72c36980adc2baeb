//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// installBatchKernels puts the AVX2 batch kernels into batchKernels.
func installBatchKernels() {
	q8Prep := func(cols int) int { return cols / qk32 }
	batchKernels[tensor.Q8_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesQ}
	batchKernels[tensor.Q4_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesQ}
	batchKernels[tensor.F16] = &batchKernel{
		prepLen: func(cols int) int { return cols },
		prep: func(j *matmulJob, b int) {
			f16ToF32AVX2(j.xf[b*j.fb:(b+1)*j.fb], j.xa[b*j.ab:(b+1)*j.ab])
		},
		rows: func(j *matmulJob, lo, hi int) int { return matmulTilesFloat(j, lo, hi, &f16Tile) },
	}
	batchKernels[tensor.BF16] = &batchKernel{ // reads the bf16 activations as they are
		rows: func(j *matmulJob, lo, hi int) int { return matmulTilesFloat(j, lo, hi, &bf16Tile) },
	}
}

// prepQ8_0Scales writes the f16 scales of Q8_0 activation row b's blocks
// as float32 (exactly): block k's to j.xf[k*j.batch+b], so that a block's
// scales of consecutive tokens are adjacent.
func prepQ8_0Scales(j *matmulJob, b int) {
	xa := j.xa[b*j.ab : (b+1)*j.ab]
	for k := 0; k < j.fb; k++ {
		j.xf[k*j.batch+b] = FP16ToFP32(binary.LittleEndian.Uint16(xa[k*q8_0Bytes:]))
	}
}

// maxExpandBlocks bounds the Q4_0 rows whose expansion matmulTilesQ keeps
// on the stack (8192 elements); longer ones take a heap buffer.
const maxExpandBlocks = 256

// tileGroup is how many rows (in pairs, within one quad) matmulTilesQ
// takes through each group of four tokens, reusing the tokens' activation
// blocks from L1. 4 and 8 measured no faster than 2 (BenchmarkMatMulPrompt).
const tileGroup = 2

// matmulTilesQ computes Q8_0 and Q4_0 rows [lo, hi) with
// tileQSplit2x4AVX2: rows in pairs (Q4_0 rows expanded to signed bytes
// first, once for the whole batch), the batch's tokens in fours (the last
// four overlapping the four before when the batch is not a multiple of
// four); a batch of under four tokens goes one at a time through the row
// kernel. It returns the first row it
// left (hi, or hi-1 for an odd count).
func matmulTilesQ(j *matmulJob, lo, hi int) int {
	const R, T = 2, 4
	rows, cols, ab := j.m.Rows, j.m.Cols, j.ab
	nb := cols / qk32
	q4 := j.m.Type == tensor.Q4_0
	if nb == 0 {
		return lo
	}
	var stackBuf [tileGroup * maxExpandBlocks * qk32]byte
	buf := stackBuf[:]
	if q4 && nb > maxExpandBlocks {
		buf = make([]byte, tileGroup*nb*qk32)
	}
	var rowBuf []byte // a LayoutQuads row in ggml's order, for the token tail
	data := j.m.Data
	for lo+R <= hi {
		g := min(tileGroup, (hi-lo)&^1)
		if q4 {
			for r := 0; r < g; r++ {
				at := j.m.blockAddr(lo + r)
				expandQ4_0AVX2(nb, &buf[r*nb*qk32], &data[at.levels], at.block)
			}
		}
		b := 0
		for ; b < j.batch && j.batch >= T; b += T {
			// When the batch is not a multiple of T, its last
			// group starts T tokens before its end and so overlaps the
			// group before it. The overlapped outputs are computed again
			// with the same bits (every tile gives the row kernel's), so
			// the batch's last tokens run through a tile too rather than
			// the row kernel, which reads each weight row once per token.
			b = min(b, j.batch-T)
			for r := 0; r < g; r += R {
				at := j.m.blockAddr(lo + r)
				wq, qRow, qBlock := &data[at.levels], at.levelsRow, at.block
				if q4 {
					wq, qRow, qBlock = &buf[r*nb*qk32], nb*qk32, qk32
				}
				tileQSplit2x4(nb, wq, qRow, qBlock, &data[at.scale], at.scaleRow, at.block,
					&j.xa[b*ab], ab, &j.xf[b], 4*j.batch, &j.out[b*rows+lo+r], 4*rows)
			}
		}
		for r := lo; b < j.batch && r < lo+g; r++ {
			row := j.m.ggmlRow(&rowBuf, r)
			for bt := b; bt < j.batch; bt++ {
				j.out[bt*rows+r] = j.k.dot(cols, row, j.xa[bt*ab:(bt+1)*ab])
			}
		}
		lo += g
	}
	return lo
}

// floatTile is a float batch tile: rows weight rows against tokens
// activation rows, for row lengths that are a multiple of colStep; run
// computes rows [lo, lo+rows) (weights w) for tokens [b, b+tokens).
type floatTile struct {
	rows, tokens, colStep int
	run                   func(j *matmulJob, w []byte, lo, b int)
}

// f16Tile runs tileF16x2x3AVX2 on the activations as float32 (j.xf); each
// output is dotF16AVX2's, bit for bit.
var f16Tile = floatTile{rows: 2, tokens: 3, colStep: 16, run: func(j *matmulJob, w []byte, lo, b int) {
	tileF16x2x3AVX2(j.m.Cols, &w[0], j.rowBytes, &j.xf[b*j.fb], 4*j.fb, &j.out[b*j.m.Rows+lo], 4*j.m.Rows)
}}

// bf16Tile runs tileBF16x3x2AVX2 on the bf16 activation rows in j.xa;
// each output is dotBF16AVX2's, bit for bit. Rows are taken by threes
// through the whole batch; grouping several threes per token pair
// measured no faster.
var bf16Tile = floatTile{rows: 3, tokens: 2, colStep: 8, run: func(j *matmulJob, w []byte, lo, b int) {
	tileBF16x3x2AVX2(j.m.Cols, &w[0], j.rowBytes, &j.xa[b*j.ab], j.ab, &j.out[b*j.m.Rows+lo], 4*j.m.Rows)
}}

// matmulTilesFloat runs t as matmulTilesQ runs its tiles: rows in groups
// of t.rows through the whole batch, tokens in groups of t.tokens (the
// last overlapping the one before), a batch shorter than one group
// through the row kernel. It returns the first row it left.
func matmulTilesFloat(j *matmulJob, lo, hi int, t *floatTile) int {
	R, T := t.rows, t.tokens
	rows, cols, rb, ab := j.m.Rows, j.m.Cols, j.rowBytes, j.ab
	if cols == 0 || cols%t.colStep != 0 {
		return lo
	}
	for ; lo+R <= hi; lo += R {
		w := j.m.Data[lo*rb : (lo+R)*rb]
		b := 0
		for ; b < j.batch && j.batch >= T; b += T {
			b = min(b, j.batch-T) // a last short group overlaps the one before (see matmulTilesQ)
			t.run(j, w, lo, b)
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

// quantizeBF16Vec is quantizeBF16 eight values at a time.
func quantizeBF16Vec(dst []byte, src []float32) {
	n := len(src) &^ 7
	quantizeBF16AVX2(dst[:2*n], src[:n])
	quantizeBF16(dst[2*n:], src[n:])
}

// Implemented in tile_amd64.s.

//go:noescape
func tileF16x2x3AVX2(n int, w *byte, rowStride int, a *float32, aStride int, out *float32, outStride int)

//go:noescape
func tileBF16x3x2AVX2(n int, w *byte, rowStride int, a *byte, aStride int, out *float32, outStride int)

//go:noescape
func f16ToF32AVX2(dst []float32, src []byte)

//go:noescape
func quantizeF16AVX2(dst []byte, src []float32)

//go:noescape
func quantizeBF16AVX2(dst []byte, src []float32)

// tileQSplit2x4 is the active path's 2x4 tile: tileQSplit2x4AVX2, or its
// VNNI twin (set by archInstall).
var tileQSplit2x4 = tileQSplit2x4AVX2

//go:noescape
func tileQSplit2x4VNNI(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func tileQSplit2x4AVX2(nb int, wq *byte, qRow, qBlock int, wd *byte, dRow, dBlock int, a *byte, aStride int, sc *float32, scBlock int, out *float32, outStride int)

//go:noescape
func expandQ4_0AVX2(nb int, dst *byte, src *byte, blockStride int)
