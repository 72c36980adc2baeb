//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// installBatchKernels puts the AVX2 batch kernels into batchKernels and
// blockwiseKernels.
func installBatchKernels() {
	q8Prep := func(cols int) int { return cols / qk32 }
	batchKernels[tensor.Q8_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesQ}
	batchKernels[tensor.Q4_0] = &batchKernel{prepLen: q8Prep, prep: prepQ8_0Scales, rows: matmulTilesQ}
	// The F16 preps' quads (tokenGroups) hold up to batch+3 tokens: room for
	// twice the batch. Rows of a multiple of 16 go through matmulF16Lanes's
	// two passes (dotF16AVX2's bits); others, unprepared, through the row
	// kernel.
	batchKernels[tensor.F16] = &batchKernel{
		prepLen: func(cols int) int {
			if cols%16 != 0 {
				return 0
			}
			return 2 * cols
		},
		prep: prepF16QuadsSplit,
		rows: func(j *matmulJob, lo, hi int) int { return matmulF16Lanes(j, lo, hi, true) },
	}
	batchKernels[tensor.BF16] = &batchKernel{ // reads the bf16 activations as they are
		rows: func(j *matmulJob, lo, hi int) int { return matmulTilesFloat(j, lo, hi, &bf16Tile) },
	}
	// The preps' threes hold up to twice the batch's tokens (tokenGroups).
	blockwiseKernels[tensor.Q4_0] = &batchKernel{prepLen: func(cols int) int { return 2 * (q4Blockwise.aBlock + q4Blockwise.sideBlock) * cols / qk32 / bwT }, prep: func(j *matmulJob, b int) { prepTriples(j, b, &q4Blockwise) },
		rows: func(j *matmulJob, lo, hi int) int { return matmulBlockwise(j, lo, hi, &q4Blockwise) }}
	blockwiseKernels[tensor.Q8_0] = &batchKernel{prepLen: func(cols int) int { return 2 * (q8Blockwise.aBlock + q8Blockwise.sideBlock) * cols / qk32 / bwT }, prep: func(j *matmulJob, b int) { prepTriples(j, b, &q8Blockwise) },
		rows: func(j *matmulJob, lo, hi int) int { return matmulBlockwise(j, lo, hi, &q8Blockwise) }}
	blockwiseKernels[tensor.F16] = &batchKernel{prepLen: func(cols int) int { return 2 * cols }, prep: prepF16Quads,
		rows: func(j *matmulJob, lo, hi int) int { return matmulF16Lanes(j, lo, hi, false) }}
}

// prepQ8_0Scales writes the f16 scales of Q8_0 activation row b's blocks
// as float32 (exactly): block k's to j.xf[k*j.batch+b], so that a block's
// scales of consecutive tokens are adjacent.
func prepQ8_0Scales(j *matmulJob, b int) {
	xa := j.xa[b*j.ab : (b+1)*j.ab]
	for k := 0; k < j.fb; k++ {
		j.xf[k*j.batch+b] = f16At(xa, k*q8_0Bytes)
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
func tileBF16x3x2AVX2(n int, w *byte, rowStride int, a *byte, aStride int, out *float32, outStride int)

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

// Blockwise batches (tileQ4_0x16x3AVX2, tileQ8_0x16x3AVX2; tile_amd64.s
// has their packed layouts): weight rows packed 16 at a time (two octets,
// a row per lane), three tokens per kernel call.
const (
	bwRows = 16
	bwT    = 3
	// bwKC is how many blocks a kernel call takes. Q4_0's 32 keep a
	// group's packed blocks (18 KiB) in L1 while every token passes them
	// (16-256 measured alike); Q8_0's 64 (68 KiB, from L2) beat its 16 (17
	// KiB): fewer calls, and fewer reloads of each three's sums, outweigh
	// L1 (alternated MatMul rounds, 2 threads, 2048x2048: 0.38 against
	// 0.43 ns per row-block-token; pp128 --fast-prompt, three alternated
	// pairs: 85.7/89.6, 80.5/82.9, 78.1/83.5 tok/s).
	bwKC4, bwKC8 = 32, 64
)

// blockwiseTile is one type's blockwise kernel for matmulBlockwise.
type blockwiseTile struct {
	block  int                                      // packed bytes per block of 16 rows
	octet  int                                      // bytes of an octet's levels in a packed block (its scales follow both octets')
	kc     int                                      // blocks per kernel call
	packed func(blk []byte, o, l, e int, lv []byte) // one level, for a short quad
	pack   func(nb int, dstW, dstD, levels *byte, levelsRow int, scale *byte, scaleRow, blockStride int)
	// A three's activations (j.xf, written by the prep) are aBlock floats
	// a block, then sideBlock floats of side data a block.
	aBlock, sideBlock int
	// prep writes one token's nb blocks (Q8_0, at src) into a three's
	// slot: its activations at a, its side data at side.
	prep func(nb int, a, side *float32, src *byte)
	// run adds nb blocks of packed rows w for a three's activations a and
	// side data side into acc.
	run func(nb int, w *byte, a, side, acc *float32)
}

var q4Blockwise = blockwiseTile{
	block: 576, octet: 256, kc: bwKC4,
	packed: func(blk []byte, o, l, e int, lv []byte) {
		blk[o*256+e/4*32+l*4+e%4] = q4_0Nibble(lv, e)
	},
	pack:   packQ4_0QuadAVX2,
	aBlock: 24, sideBlock: 6, // 32 levels, then scale and 8*sum(levels), a token
	prep: prepQ4TripleAVX2,
	run:  tileQ4_0x16x3AVX2,
}

var q8Blockwise = blockwiseTile{
	block: 1088, octet: 512, kc: bwKC8,
	packed: func(blk []byte, o, l, e int, lv []byte) {
		binary.LittleEndian.PutUint16(blk[o*512+e/2*32+l*4+e%2*2:], uint16(int16(int8(lv[e]))))
	},
	pack:   packQ8_0QuadAVX2,
	aBlock: 48, sideBlock: 3, // 32 levels as int16, then the scale, a token
	prep: func(nb int, a, side *float32, src *byte) {
		widenQ8_0AVX2(nb, a, 4*48, side, 4*3, src)
	},
	run: tileQ8_0x16x3AVX2,
}

// tokenGroups says how the blockwise kernels' preps lay out a batch's
// activations: in groups of g tokens, group q holding tokens from
// min(g*q, bt-g) on, bt = max(batch, g), a slot past the batch's last token
// holding that last token. Groups hold at most batch+g-1 tokens, at most
// twice the batch for g <= 3 (a batch is 2 or more), or for g = 4 and a
// batch of 3 or more; a batch of 2 takes 4 slots.
func tokenGroups(batch, g int) (groups, bt int) {
	bt = max(batch, g)
	return (bt + g - 1) / g, bt
}

// groupStart is the batch token in slot 0 of group q of tokenGroups(batch,
// g), bt its second result: the preps and the kernels' readers agree
// through it.
func groupStart(q, g, bt int) int { return min(g*q, bt-g) }

// groupSlots calls f for each slot of tokenGroups(batch, g) that holds
// token b: the one of group b/g, and the one of group b/g+1 when that is the
// last group and starts earlier.
func groupSlots(batch, g, b int, f func(q, slot int)) {
	groups, bt := tokenGroups(batch, g)
	for q := b / g; q <= min(b/g+1, groups-1); q++ {
		start := groupStart(q, g, bt)
		for slot := 0; slot < g; slot++ {
			if min(start+slot, batch-1) == b {
				f(q, slot)
			}
		}
	}
}

// blockwiseScratch is one matmulBlockwise call's working memory, kept in
// a sync.Pool: the pool's chunks run on several threads at once.
type blockwiseScratch struct {
	w   []byte    // a group's packed blocks
	acc []float32 // sums: 16 rows by the tokens of every group
}

var blockwiseScratchPool = sync.Pool{New: func() any { return new(blockwiseScratch) }}

// prepTriples writes activation row b into each slot of the threes
// (tokenGroups) that holds it, for bt's kernel: a three's activations by
// blocks (bt.aBlock floats a block), then their side data (bt.sideBlock
// floats a block), by bt.prep.
func prepTriples(j *matmulJob, b int, bt *blockwiseTile) {
	nb := j.m.Cols / qk32
	if nb == 0 {
		return
	}
	per := (bt.aBlock + bt.sideBlock) * nb
	groupSlots(j.batch, bwT, b, func(q, slot int) {
		x := j.xf[q*per:]
		bt.prep(nb, &x[bt.aBlock/bwT*slot], &x[bt.aBlock*nb+bt.sideBlock/bwT*slot], &j.xa[b*j.ab])
	})
}

// packQuad packs rows r..r+n-1 (n <= 4) of m as quad q (0-3) of dst's 16
// rows; the rows a short quad lacks are left as they are (the caller
// zeroes them).
func (bt *blockwiseTile) packQuad(dst []byte, m Matrix, r, n, q int) {
	nb := m.Cols / qk32
	o, half := q/2, q%2*16
	if n == 4 {
		at := m.blockAddr(r)
		bt.pack(nb, &dst[o*bt.octet+half], &dst[2*bt.octet+o*32+half],
			&m.Data[at.levels], at.levelsRow, &m.Data[at.scale], at.scaleRow, at.block)
		return
	}
	for i := 0; i < n; i++ {
		at := m.blockAddr(r + i)
		lane := 4*q + i
		for k := 0; k < nb; k++ {
			blk := dst[k*bt.block:]
			lv := m.Data[at.levels+k*at.block:]
			for e := 0; e < qk32; e++ {
				bt.packed(blk, lane/8, lane%8, e, lv)
			}
			d := f16At(m.Data, at.scale+k*at.block)
			binary.LittleEndian.PutUint32(blk[2*bt.octet+lane*4:], math.Float32bits(d))
		}
	}
}

// matmulBlockwise computes rows [lo, hi) for the whole batch in the
// blockwise order (dotQBlockwise): rows packed 16 at a time (the last
// group of a range padded with zero rows), tokens in the threes the prep
// wrote (tokenGroups), bt.kc blocks per call.
func matmulBlockwise(j *matmulJob, lo, hi int, bt *blockwiseTile) int {
	rows, batch := j.m.Rows, j.batch
	nb := j.m.Cols / qk32
	if nb == 0 || batch < 2 {
		return lo
	}
	s := blockwiseScratchPool.Get().(*blockwiseScratch)
	defer blockwiseScratchPool.Put(s)
	s.w = grow(s.w, nb*bt.block)
	threes, bT := tokenGroups(batch, bwT)
	per := (bt.aBlock + bt.sideBlock) * nb // floats of a three's activations
	acc := grow(s.acc, threes*bwT*bwRows)
	s.acc = acc
	for ; lo < hi; lo += bwRows {
		n := min(bwRows, hi-lo)
		if n < bwRows {
			clear(s.w)
		}
		for q := 0; 4*q < n; q++ {
			bt.packQuad(s.w, j.m, lo+4*q, min(4, n-4*q), q)
		}
		clear(acc)
		for k := 0; k < nb; k += bt.kc {
			kc := min(bt.kc, nb-k)
			w := &s.w[k*bt.block]
			for q := range threes {
				x := j.xf[q*per:]
				bt.run(kc, w, &x[bt.aBlock*k], &x[bt.aBlock*nb+bt.sideBlock*k], &acc[q*bwT*bwRows])
			}
		}
		for t := 0; t < batch; t++ {
			q := t / bwT
			slot := t - groupStart(q, bwT, bT)
			copy(j.out[t*rows+lo:t*rows+lo+n], acc[(q*bwT+slot)*bwRows:])
		}
	}
	return hi
}

// prepF16Quads writes activation row b, converted to float32, into every
// slot of the fours (tokenGroups) that holds it, for tileF16x3x4AccAVX2:
// a four's n8 elements interleaved by eights, 4*n8 floats a four.
func prepF16Quads(j *matmulJob, b int) {
	n8 := j.m.Cols &^ 7
	if n8 == 0 {
		return
	}
	groupSlots(j.batch, 4, b, func(q, slot int) {
		f16ToF32QuadAVX2(n8, &j.xf[q*4*n8+8*slot], &j.xa[b*j.ab])
	})
}

// prepF16QuadsSplit is prepF16Quads for the exact passes, for rows of a
// multiple of 16 elements: within each chunk of f16Chunk columns the even
// eights first, then the odd ones (as packF16x3SplitAVX2 packs the
// weights).
func prepF16QuadsSplit(j *matmulJob, b int) {
	cols := j.m.Cols
	groupSlots(j.batch, 4, b, func(q, slot int) {
		for c := 0; c < cols; c += f16Chunk {
			f16ToF32QuadSplitAVX2(min(f16Chunk, cols-c), &j.xf[q*4*cols+4*c+8*slot], &j.xa[b*j.ab+2*c])
		}
	})
}

// matmulF16Lanes computes F16 rows [lo, hi) for the whole batch with
// tileF16x3x4AccAVX2: rows in threes (a last one or two padded with copies
// of the last row, their outputs through scratch), f16Group threes at a
// time through every token, tokens in the fours prepF16Quads (or, exact,
// prepF16QuadsSplit) wrote, columns f16Chunk at a time (each three's chunk
// packed by packF16x3AVX2 or packF16x3SplitAVX2, so that it stays in L1
// while every quad passes it).
//
// exact gives dotF16AVX2's bits, for rows of a multiple of 16 elements
// (for other rows the prep's length is 0, and the row kernel takes them):
// two passes over each chunk, the even eights (elements 16k..16k+7) into
// one set of sums and the odd ones into another, as dotF16AVX2's two
// accumulators, added lane by lane at the end (tileF16x3x4Out2AVX2). The
// weights and activations are split by parity within each chunk
// (packF16x3SplitAVX2, prepF16QuadsSplit), so each pass reads one run.
// Otherwise the order is dotF16Lanes8's (blockwise): one pass, one sum,
// and the elements past the last multiple of 8 fused on in Go.
func matmulF16Lanes(j *matmulJob, lo, hi int, exact bool) int {
	const R, T = 3, 4
	rows, cols, rb, batch := j.m.Rows, j.m.Cols, j.rowBytes, j.batch
	if batch < 2 || j.fb == 0 { // nothing prepared: the row kernel's rows
		return lo
	}
	n8 := cols &^ 7
	s := blockwiseScratchPool.Get().(*blockwiseScratch)
	defer blockwiseScratchPool.Put(s)
	quads, bt := tokenGroups(batch, T)
	const packed = R * f16Chunk * 2 // bytes of a three's packed chunk
	s.w = grow(s.w, f16Group*packed)
	var outs [R * T]float32 // a short three's or a short batch's outputs
	sets := 1
	if exact {
		sets = 2 // the odd eights' sums from acc[na]
	}
	for ; lo < hi; lo += f16Group * R {
		ntr := min(f16Group, (hi-lo+R-1)/R)
		na := ntr * quads * 8 * R * T
		acc := grow(s.acc, sets*na)
		s.acc = acc
		if n8 == 0 {
			clear(acc) // no chunk: the sums are the Go tail's alone
		}
		for c := 0; c < n8; c += f16Chunk {
			cc := min(f16Chunk, n8-c)
			fresh := 0 // the first chunk starts the sums from zero, rather than clearing them first
			if c == 0 {
				fresh = 1
			}
			for i := range ntr {
				r0 := lo + i*R
				dst := s.w[i*packed : i*packed+R*2*cc]
				if nr := hi - r0; nr < R {
					for k := 0; k < cc/8; k++ {
						at := k // where eight k goes: in order, or split by parity
						if exact {
							at = k/2 + k%2*cc/16
						}
						for r := 0; r < R; r++ {
							row := (r0 + min(r, nr-1)) * rb
							copy(dst[48*at+16*r:48*at+16*r+16], j.m.Data[row+2*c+16*k:])
						}
					}
					continue
				}
				if exact {
					packF16x3SplitAVX2(cc, &dst[0], &j.m.Data[r0*rb+2*c], rb)
				} else {
					packF16x3AVX2(cc, &dst[0], &j.m.Data[r0*rb+2*c], rb)
				}
			}
			for q := range quads {
				a, sums := q*4*n8+4*c, q*ntr*8*R*T
				if exact { // the even eights, then the odd ones
					h := cc / 16
					tileF16x3x4AccAVX2(cc/2, &s.w[0], packed, &j.xf[a], &acc[sums], ntr, fresh)
					tileF16x3x4AccAVX2(cc/2, &s.w[48*h], packed, &j.xf[a+32*h], &acc[na+sums], ntr, fresh)
					continue
				}
				tileF16x3x4AccAVX2(cc, &s.w[0], packed, &j.xf[a], &acc[sums], ntr, fresh)
			}
		}
		for i := range ntr {
			r0 := lo + i*R
			nr := min(R, hi-r0)
			for q := range quads {
				t := groupStart(q, T, bt)
				sums := (q*ntr + i) * 8 * R * T
				dst, stride := &outs[0], 4*R
				if nr == R && batch >= T {
					dst, stride = &j.out[t*rows+r0], 4*rows
				}
				if exact {
					tileF16x3x4Out2AVX2(&acc[sums], &acc[na+sums], dst, stride)
				} else {
					tileF16x3x4OutAVX2(&acc[sums], dst, stride)
				}
				if dst != &outs[0] {
					continue
				}
				for u := t; u < min(t+T, batch); u++ {
					copy(j.out[u*rows+r0:u*rows+r0+nr], outs[(u-t)*R:])
				}
			}
			for t := 0; t < batch && n8 < cols; t++ {
				for r := 0; r < nr; r++ {
					o := &j.out[t*rows+r0+r]
					for e := n8; e < cols; e++ {
						*o = fma32(f16At(j.m.Data, (r0+r)*rb+2*e), f16At(j.xa, t*j.ab+2*e), *o)
					}
				}
			}
		}
	}
	return hi
}

// f16Group and f16Chunk block matmulF16Lanes: threes of rows per pass
// over the batch, and columns per pass (a multiple of 16, for the exact
// split). A chunk's packed weights (12 rows, 24 KiB) stay in L1 while
// every quad of tokens passes them; its activations (4 KiB a token)
// stream from L2. Longer chunks than the 24 rows x 256 columns of before
// reload and store each three's sums less often (once per 1024 columns
// instead of 256, or 128 per exact pass): alternated MatMul rounds (128
// tokens, 2 threads, medians of 12, ns per row-32-token) gave 0.50/0.53
// exact and 0.51/0.56 blockwise at 2048x2048/512x5632 against 0.55/0.60
// and 0.55/0.58 (2 x 2048, 3 x 2048 and 3 x 1024 were within 0.01-0.02 of
// it), and F16 pp128 rose from ~51 to ~58 tok/s.
const f16Group, f16Chunk = 4, 1024

//go:noescape
func tileF16x3x4AccAVX2(n int, w *byte, wStride int, a *float32, acc *float32, threes, fresh int)

//go:noescape
func packF16x3AVX2(n int, dst *byte, src *byte, rowStride int)

//go:noescape
func f16ToF32QuadAVX2(n int, dst *float32, src *byte)

//go:noescape
func packF16x3SplitAVX2(n int, dst *byte, src *byte, rowStride int)

//go:noescape
func f16ToF32QuadSplitAVX2(n int, dst *float32, src *byte)

//go:noescape
func tileF16x3x4OutAVX2(acc *float32, out *float32, outStride int)

//go:noescape
func tileF16x3x4Out2AVX2(acc, acc2 *float32, out *float32, outStride int)

//go:noescape
func packQ8_0QuadAVX2(nb int, dstW, dstD, levels *byte, levelsRow int, scale *byte, scaleRow, blockStride int)

//go:noescape
func widenQ8_0AVX2(nb int, dst *float32, dstStride int, side *float32, sideStride int, src *byte)

//go:noescape
func prepQ4TripleAVX2(nb int, dst *float32, side *float32, src *byte)

//go:noescape
func tileQ8_0x16x3AVX2(nb int, w *byte, a *float32, side *float32, acc *float32)

//go:noescape
func packQ4_0QuadAVX2(nb int, dstW, dstD, levels *byte, levelsRow int, scale *byte, scaleRow, blockStride int)

//go:noescape
func tileQ4_0x16x3AVX2(nb int, w *byte, a *float32, side *float32, acc *float32)

//go:noescape
func tileQ4_0x16x3VNNI(nb int, w *byte, a *float32, side *float32, acc *float32)

//go:noescape
func tileQ8_0x16x3VNNI(nb int, w *byte, a *float32, side *float32, acc *float32)
