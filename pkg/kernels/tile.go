package kernels

// batchKernel is a weight type's matrix-matrix kernel, which MatMul uses
// for batches of two or more activation rows: it computes tiles of several
// weight rows times several tokens, so a weight block is decoded once per
// tile instead of once per token. Each output keeps the bits of the
// active path's dot product for the type, so a batch gives what the rows
// one at a time give.
type batchKernel struct {
	// prepLen is how many float32s of side data prep writes per
	// activation row of cols elements (nil or 0: no prep).
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
