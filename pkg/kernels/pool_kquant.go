package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

// MatMul's k-quant route: where the active path has lane-major kernels for
// the weight type (kquantMatmul), each activation row is converted once to
// the lane-major layout (quantkx.go) and every weight row is taken against
// four activation rows at a time, its blocks decoded once for the four.
// Every output keeps the generic dot's bits.

// setupLaneMajor points MatMul's job at the lane-major kernels of m.Type,
// if any, and sizes the buffer their activation rows go to.
func (p *Pool) setupLaneMajor(m Matrix, batch int) {
	kq := kquantMatmul[m.Type]
	if kq == nil || ActivationType(m.Type) != tensor.Q8_K {
		return
	}
	stride := (m.Cols/qkK*lmBlockBytes + 63) &^ 63 // rows start on cache lines
	if need := batch * stride; len(p.lmBuf) < need {
		p.lmBuf = alignedBytes(need)
	}
	p.mm.kq, p.mm.lm, p.mm.lmStride = kq, p.lmBuf[:batch*stride], stride
}

// matmulRowsLaneMajor is matmulRows for a job with lane-major kernels.
func (p *Pool) matmulRowsLaneMajor(lo, hi int) {
	j := &p.mm
	rows, cols, rb, st := j.m.Rows, j.m.Cols, j.rowBytes, j.lmStride
	var r4 [4]float32
	for r := lo; r < hi; r++ {
		w := j.m.Data[r*rb : (r+1)*rb]
		b := 0
		if dot4 := j.kq.dot4; dot4 != nil {
			for ; b+4 <= j.batch; b += 4 {
				dot4(cols, w, j.lm[b*st:(b+4)*st], st, &r4)
				j.out[b*rows+r] = r4[0]
				j.out[(b+1)*rows+r] = r4[1]
				j.out[(b+2)*rows+r] = r4[2]
				j.out[(b+3)*rows+r] = r4[3]
			}
		}
		for ; b < j.batch; b++ {
			j.out[b*rows+r] = j.kq.dot(cols, w, j.lm[b*st:(b+1)*st])
		}
	}
}
