package kernels

import (
	"encoding/binary"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// batchKernel is a weight type's matrix-matrix kernel, which MatMul uses
// for batches of two or more activation rows: it computes tiles of several
// weight rows times several tokens, so a weight block is decoded once per
// tile instead of once per token. Each output keeps the bits of the
// type's dot product (the float types: within its tolerance).
type batchKernel struct {
	// prepLen is how many float32s of side data prep writes per
	// activation row of cols elements (0: no prep).
	prepLen func(cols int) int
	// prep writes the side data of activation row b (converted, in j.xa)
	// into j.xf, which holds j.fb*j.batch floats.
	prep func(j *matmulJob, b int)
	// rows computes the outputs of weight rows [lo, lo+n) for the whole
	// batch, n as large as its tiles allow (at most hi-lo), and returns
	// lo+n: the rows from there to hi are left to the single-row kernels.
	rows func(j *matmulJob, lo, hi int) int
}

// batchKernels holds, per weight type, the active path's batch kernel
// (nil: MatMul runs the row kernels per token).
var batchKernels [len(typeKernels)]*batchKernel

// prepQ8_0Scales writes the f16 scales of Q8_0 activation row b's blocks
// as float32 (exactly): block k's to j.xf[k*j.batch+b], so that a block's
// scales of consecutive tokens are adjacent.
func prepQ8_0Scales(j *matmulJob, b int) {
	xa := j.xa[b*j.ab : (b+1)*j.ab]
	for k := 0; k < j.fb; k++ {
		j.xf[k*j.batch+b] = FP16ToFP32(binary.LittleEndian.Uint16(xa[k*q8_0Bytes:]))
	}
}

// tileQRef is the scalar twin of the quantized tile kernels: R rows
// (block k of row r at w[r*rowStride+k*blockStride:]) times T Q8_0
// activation rows (row t at a[t*aStride:]), result (r, t) to
// out[t*outStride+r], each the generic dot product of typ (Q4_0 or Q8_0)
// of the gathered row.
func tileQRef(typ tensor.Type, R, T, nb int, w []byte, rowStride, blockStride int, a []byte, aStride int, out []float32, outStride int) {
	bb := typ.BlockBytes()
	row := make([]byte, nb*bb)
	dot := genericKernels[typ].dot
	for r := 0; r < R; r++ {
		for k := 0; k < nb; k++ {
			copy(row[k*bb:(k+1)*bb], w[r*rowStride+k*blockStride:])
		}
		for t := 0; t < T; t++ {
			out[t*outStride+r] = dot(nb*qk32, row, a[t*aStride:])
		}
	}
}
