package kernels

import "github.com/llmboot/llmboot/pkg/tensor"

// MatMul's k-quant route: where the active path has lane-major kernels for
// the weight type (kquantMatmul), each activation row is quantized once
// straight into the lane-major layout (quantkx.go), and each weight row is
// taken against eight or four activation rows at a time, its blocks decoded
// once for all of them; a single activation row (generation) goes through
// the many-row kernel, a tile of weight rows per call. Weights in
// LayoutLaneMajor go through the kernels' packed twins, which skip the
// weight shuffles. Every output keeps
// the generic dot's bits. The hooks in pool.go are setupLaneMajor (MatMul),
// quantizeLaneMajor (matmulQuantize) and matmulRowsLaneMajor (matmulRows).

// setupLaneMajor points MatMul's job at the lane-major kernels of m.Type,
// if any, and sizes the buffer their activation rows go to.
func (p *Pool) setupLaneMajor(m Matrix, batch int) {
	kq := kquantMatmul[m.Type]
	if kq != nil && m.Layout == LayoutLaneMajor {
		kq = kq.packed // nil: MatMul's rows in ggml's order, one by one
	}
	if kq == nil || ActivationType(m.Type) != tensor.Q8_K {
		return
	}
	stride := (m.Cols/qkK*lmBlockBytes + 63) &^ 63 // rows start on cache lines
	if need := batch * stride; len(p.lmBuf) < need {
		p.lmBuf = alignedBytes(need)
	}
	p.mm.kq, p.mm.lm, p.mm.lmStride = kq, p.lmBuf[:batch*stride], stride
	if groups := batch / 8; kq.dot8 != nil && groups > 0 {
		gb := m.Cols / qkK * lmGroupBlockBytes
		if len(p.lmGroups) < groups*gb {
			p.lmGroups = make([]byte, groups*gb)
		}
		p.mm.lmGroups, p.mm.lmGroupBytes = p.lmGroups[:groups*gb], gb
	}
}

// quantizeLaneMajor converts activation row b of MatMul's job to its
// lane-major row.
func (p *Pool) quantizeLaneMajor(b int) {
	j := &p.mm
	cols := j.m.Cols
	x, lm := j.x[b*cols:(b+1)*cols], j.lm[b*j.lmStride:]
	if q := j.kq.quantize; q != nil {
		q(lm, x)
	} else {
		xa := j.xa[b*j.ab : (b+1)*j.ab]
		j.quantize(xa, x)
		laneMajorQ8K(lm, xa)
	}
	if gb := j.lmGroupBytes; gb > 0 && (b/8+1)*gb <= len(j.lmGroups) {
		lmGroupFill(j.lmGroups[b/8*gb:], lm, cols/qkK, b%8)
	}
}

// lmRowTile is how many weight rows matmulRowsLaneMajor takes against
// each group of activation rows before moving to the next group: the
// tile's weights stay in L2 (tens of KiB), the group's activations in L1
// (32 measured best of 4 to 64 on pp128 of the 1.1B Q4_K_M model).
const lmRowTile = 32

// matmulRowsLaneMajor is matmulRows for a job with lane-major kernels:
// per tile of weight rows, activation rows in groups of eight, then four,
// then one at a time.
func (p *Pool) matmulRowsLaneMajor(lo, hi int) {
	j := &p.mm
	rows, cols, rb, st := j.m.Rows, j.m.Cols, j.rowBytes, j.lmStride
	dot, rowsDot, dot4, dot8 := j.kq.dot, j.kq.rows, j.kq.dot4, j.kq.dot8
	if j.batch == 1 && rowsDot != nil {
		// One activation row (generation): tiles buy nothing, one call.
		rowsDot(cols, j.m.Data[lo*rb:hi*rb], rb, j.lm[:st], j.out[lo:hi])
		return
	}
	var r4 [4]float32
	var r8 [8]float32
	for t0 := lo; t0 < hi; t0 += lmRowTile {
		t1 := min(t0+lmRowTile, hi)
		b := 0
		if dot8 != nil {
			for ; b+8 <= j.batch; b += 8 {
				a := j.lm[b*st : (b+8)*st]
				for r := t0; r < t1; r++ {
					dot8(cols, j.m.Data[r*rb:(r+1)*rb], a, st, j.lmGroups[b/8*j.lmGroupBytes:], &r8)
					for i, v := range r8 {
						j.out[(b+i)*rows+r] = v
					}
				}
			}
		}
		if dot4 != nil {
			for ; b+4 <= j.batch; b += 4 {
				a := j.lm[b*st : (b+4)*st]
				for r := t0; r < t1; r++ {
					dot4(cols, j.m.Data[r*rb:(r+1)*rb], a, st, &r4)
					j.out[b*rows+r] = r4[0]
					j.out[(b+1)*rows+r] = r4[1]
					j.out[(b+2)*rows+r] = r4[2]
					j.out[(b+3)*rows+r] = r4[3]
				}
			}
		}
		for ; b < j.batch; b++ {
			a := j.lm[b*st : (b+1)*st]
			if rowsDot != nil {
				rowsDot(cols, j.m.Data[t0*rb:t1*rb], rb, a, j.out[b*rows+t0:b*rows+t1])
				continue
			}
			for r := t0; r < t1; r++ {
				j.out[b*rows+r] = dot(cols, j.m.Data[r*rb:(r+1)*rb], a)
			}
		}
	}
}
