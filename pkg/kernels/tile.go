package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

// batchKernel is a weight type's matrix-matrix kernel, which MatMul uses
// for batches of two or more activation rows: it computes tiles of several
// weight rows times several tokens, so a weight block is decoded once per
// tile instead of once per token. The kernels in batchKernels keep the
// bits of the active path's dot product for the type, so a batch gives
// what the rows one at a time give; those in blockwiseKernels sum in
// their own orders (dotQBlockwise, dotF16Lanes8), which are faster, where
// a Pool is set to (Pool.SetBlockwise).
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

// batchDot is what MatMul gives, on the active path, for weight row w
// (ggml's format) and activation row a in a batch of batch rows, on a
// Pool with SetBlockwise(blockwise): a blockwise kernel's order where one
// runs, else the row kernel's.
func batchDot(typ tensor.Type, batch int, blockwise bool, n int, w, a []byte) float32 {
	if blockwiseKernels[typ] == nil || !blockwise || batch < 2 {
		return VecDot(typ, n, w, a)
	}
	if typ == tensor.F16 {
		return dotF16Lanes8(n, w, a)
	}
	return dotQBlockwise(typ, n, w, a)
}

// batchKernels holds, per weight type, the active path's batch kernel
// (nil: MatMul runs the row kernels per token).
var batchKernels [len(typeKernels)]*batchKernel

// blockwiseKernels holds, per weight type, the active path's blockwise
// batch kernel, which MatMul takes instead of batchKernels' on a Pool set
// blockwise.
var blockwiseKernels [len(typeKernels)]*batchKernel

// dotQBlockwise is the pure-Go twin of the blockwise batch kernels (Q4_0
// and Q8_0 weights against a Q8_0 activation row of n elements): each
// block's integer sum is exact, then acc += (f16(w.d) * f16(a.d)) * isum
// in float32, block by block. It is not dot's order (ggml's eight lanes
// and their final sum), so a batch's outputs differ from the row
// kernels' in the last bits; the conversions keep a compiler from fusing
// the multiply and add, which the kernels do not.
func dotQBlockwise(typ tensor.Type, n int, w, a []byte) float32 {
	var acc float32
	bs := typ.BlockBytes()
	for k := 0; k < n/qk32; k++ {
		wb, ab := w[k*bs:(k+1)*bs], a[k*q8_0Bytes:(k+1)*q8_0Bytes]
		var isum int32
		for i := 0; i < qk32; i++ {
			var lv int32
			if typ == tensor.Q4_0 {
				lv = int32(q4_0Nibble(wb[2:], i)) - 8
			} else {
				lv = int32(int8(wb[2+i]))
			}
			isum += lv * int32(int8(ab[2+i]))
		}
		d := f16At(wb, 0) * f16At(ab, 0)
		acc += float32(d * float32(isum))
	}
	return acc
}

// dotF16Lanes8 is the pure-Go twin of the blockwise F16 batch kernel (F16
// weights against an F16 activation row of n elements, taken as float32):
// element i is fused into lane i mod 8 in increasing i, the eight lanes
// are added in hsum_float_8's order, and the last n mod 8 elements are
// fused onto that sum one by one. dotF16AVX2 keeps sixteen lanes, which
// the default batch path gets from the same tile in two passes
// (matmulF16Lanes); one pass is faster.
func dotF16Lanes8(n int, w, a []byte) float32 {
	var lanes [8]float32
	n8 := n &^ 7
	for i := 0; i < n8; i++ {
		lanes[i%8] = fma32(f16At(w, 2*i), f16At(a, 2*i), lanes[i%8])
	}
	s := hsumFloat8(lanes)
	for i := n8; i < n; i++ {
		s = fma32(f16At(w, 2*i), f16At(a, 2*i), s)
	}
	return s
}
