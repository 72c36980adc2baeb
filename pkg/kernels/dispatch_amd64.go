//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// The AVX2 path needs AVX2 for the integer work, FMA for the float
// accumulation the references fix (acc = fma(d, sum, acc)) and F16C for the
// f16 scales; every AVX2 CPU made has the other two. The AVX-512 path adds
// F/BW/VL; its VNNI kernels are gated on AVX512_VNNI separately, because
// Go's assembler emits only the EVEX form of vpdpbusd.
var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C && cpu.X86.HasOSXSAVE
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
	hasVNNI   = hasAVX512 && cpu.X86.HasAVX512VNNI
)

func archSupports(p Path) bool {
	switch p {
	case PathAVX2:
		return hasAVX2
	case PathAVX512:
		return hasAVX512
	}
	return false
}

// archInstall puts path p's kernels into t. The AVX-512 path runs the
// AVX2 kernels (which every AVX-512 CPU runs) except, where the CPU has
// AVX512_VNNI, the Q4_0/Q8_0 quad kernels, batch tile and blockwise
// kernels, which take vpdpbusd (and vpdpwssd).
func archInstall(p Path, t *[len(typeKernels)]typeKernel) {
	if p != PathAVX2 && p != PathAVX512 {
		return
	}
	t[tensor.Q8_0].dot = dotQ8_0AVX2
	t[tensor.Q4_0].dot = dotQ4_0AVX2
	t[tensor.F16].dot = dotF16AVX2
	t[tensor.F32].dot = dotF32AVX2
	t[tensor.BF16].dot = dotBF16AVX2
	t[tensor.Q4_1].dot = dotQ4_1AVX2
	t[tensor.Q5_0].dot = dotQ5_0AVX2
	t[tensor.Q5_1].dot = dotQ5_1AVX2
	t[tensor.Q3_K].dot = dotQ3_KAVX2
	t[tensor.Q4_K].dot = dotQ4_KAVX2
	t[tensor.Q5_K].dot = dotQ5_KAVX2
	t[tensor.Q6_K].dot = dotQ6_KAVX2
	t[tensor.Q2_K].dot = dotQ2_KAVX2
	installKQuantAVX2()
	dot4Kernels[tensor.Q8_0] = dotQ8_0x4AVX2
	dot4Kernels[tensor.Q4_0] = dotQ4_0x4AVX2
	tok4Kernels[tensor.Q2_K] = dotQ2_Kx4AVX2
	rowsKernels[tensor.F32] = dotF32RowsAVX2
	rowsKernels[tensor.F16] = dotF16RowsAVX2
	rowsKernels[tensor.BF16] = dotBF16RowsAVX2
	quadKernels[tensor.Q8_0] = quadKernel{dot: dotQ8_0QuadsAVX2, rows: dotQ8_0QuadsRowsAVX2}
	quadKernels[tensor.Q4_0] = quadKernel{dot: dotQ4_0QuadsAVX2, rows: dotQ4_0QuadsRowsAVX2, prep: quadPrepQ4_0Fast, prepBytes: quadPrepQ4_0Bytes}
	t[tensor.F16].quantize = quantizeF16Vec
	t[tensor.BF16].quantize = quantizeBF16Vec
	installBatchKernels()
	tileQSplit2x4 = tileQSplit2x4AVX2
	q4Blockwise.run, q8Blockwise.run = tileQ4_0x16x3AVX2, tileQ8_0x16x3AVX2
	if p == PathAVX512 && hasVNNI {
		quadKernels[tensor.Q8_0] = quadKernel{dot: dotQ8_0QuadsVNNI}
		quadKernels[tensor.Q4_0] = quadKernel{dot: dotQ4_0QuadsVNNI}
		tileQSplit2x4 = tileQSplit2x4VNNI
		q4Blockwise.run, q8Blockwise.run = tileQ4_0x16x3VNNI, tileQ8_0x16x3VNNI
	}
	quantizeQ8_0Act = quantizeQ8_0AVX2
	dotFloats = dotFloatsAVX2
	swiGLUVec = swiGLUVecAVX2
	weightedSum = weightedSumVecAVX2
	dotRows = dotRowsAVX2
}

// swiGLUVecAVX2 runs swigluAVX2 and takes the groups it hands back (a lane
// whose exp needs more than a normal float's scaling) in Go.
func swiGLUVecAVX2(dst, gate, up []float32) {
	for i := 0; i < len(dst); {
		i += swigluAVX2(dst[i:], gate[i:len(dst)], up[i:len(dst)])
		if i+8 <= len(dst) {
			swiGLUVecGeneric(dst[i:i+8], gate[i:i+8], up[i:i+8])
			i += 8
		} else {
			swiGLUVecGeneric(dst[i:], gate[i:len(dst)], up[i:len(dst)])
			break
		}
	}
}

// weightedSumVecAVX2 runs weightedSumAVX2 over the columns in whole
// groups of eight and weightedSumGeneric over the rest.
func weightedSumVecAVX2(dst, w, rows []float32, stride int) {
	if len(w) == 0 {
		clear(dst)
		return
	}
	n8 := len(dst) &^ 7
	if n8 > 0 {
		weightedSumAVX2(&dst[0], n8, &w[0], len(w), &rows[0], 4*stride)
	}
	if n8 < len(dst) {
		weightedSumGeneric(dst[n8:], w, rows[n8:], stride)
	}
}

//go:noescape
func weightedSumAVX2(dst *float32, n int, w *float32, nw int, rows *float32, stride int)

// dotRowsAVX2 runs dotF32RowsAVX2 on the float32 slices' bytes: Dot's
// kernel for every row in one call.
func dotRowsAVX2(out, x, rows []float32, stride int) {
	n := (len(out)-1)*stride + len(x)
	dotF32RowsAVX2(len(x), unsafe.Slice((*byte)(unsafe.Pointer(&rows[0])), 4*n), 4*stride,
		unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)), out)
}

// dotFloatsAVX2 runs dotF32AVX2 on the float32 slices' bytes (amd64 is
// little-endian, the F32 row layout).
func dotFloatsAVX2(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return dotF32AVX2(len(a), unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a)), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b)))
}

// Implemented in dot_amd64.s and dotk_amd64.s. n is a whole number of blocks, and w and a
// hold at least the bytes n elements need (VecDot and MatMul check this
// before calling). The activation bytes of dotQ8_0AVX2 must lie in
// [-127, 127], as every Q8_0 activation quantizer writes them: like
// llama.cpp's vpsignb route, it would wrap on a weight below zero times
// -128.

//go:noescape
func dotQ8_0AVX2(n int, w, a []byte) float32

//go:noescape
func dotQ4_0AVX2(n int, w, a []byte) float32

//go:noescape
func dotQ8_0x4AVX2(n int, w []byte, rowStride, blockStride int, a []byte, out *[4]float32)

//go:noescape
func dotQ4_0x4AVX2(n int, w []byte, rowStride, blockStride int, a []byte, out *[4]float32)

//go:noescape
func dotQ4_1AVX2(n int, w, a []byte) float32

//go:noescape
func dotQ5_0AVX2(n int, w, a []byte) float32

//go:noescape
func dotQ5_1AVX2(n int, w, a []byte) float32

//go:noescape
func dotF16AVX2(n int, w, a []byte) float32

//go:noescape
func dotBF16AVX2(n int, w, a []byte) float32

//go:noescape
func dotF32AVX2(n int, w, a []byte) float32

// dotF32RowsAVX2, dotF16RowsAVX2 and dotBF16RowsAVX2 are dotF32AVX2,
// dotF16AVX2 and dotBF16AVX2 for len(out) rows wstride bytes apart
// (rowsKernels).
//
//go:noescape
func dotF32RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotF16RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotBF16RowsAVX2(n int, w []byte, wstride int, a []byte, out []float32)

//go:noescape
func dotQ3_KAVX2(n int, w, a []byte) float32

//go:noescape
func dotQ4_KAVX2(n int, w, a []byte) float32

//go:noescape
func dotQ5_KAVX2(n int, w, a []byte) float32

//go:noescape
func dotQ2_KAVX2(n int, w, a []byte) float32 // dotk2_amd64.s

//go:noescape
func dotQ2_Kx4AVX2(n int, w []byte, a []byte, astride int, out *[4]float32) // dotk2_amd64.s

//go:noescape
func dotQ6_KAVX2(n int, w, a []byte) float32

//go:noescape
func swigluAVX2(dst, gate, up []float32) int

//go:noescape
func quantizeQ8_0AVX2(dst []byte, src []float32)

// Implemented in quads_amd64.s, for LayoutQuads matrices (see
// quadKernels).

//go:noescape
func dotQ4_0QuadsAVX2(n int, w, a, prep []byte, out *[4]float32)

//go:noescape
func dotQ8_0QuadsAVX2(n int, w, a, prep []byte, out *[4]float32)

// The many-quad forms (quadKernel.rows): len(out)/4 quads one after
// another in w.

//go:noescape
func dotQ4_0QuadsRowsAVX2(n int, w, a, prep []byte, out []float32)

//go:noescape
func dotQ8_0QuadsRowsAVX2(n int, w, a, prep []byte, out []float32)

//go:noescape
func quadPrepQ4_0AVX2(dst, a []byte, blocks int)

// The VNNI twins of the two quad kernels (quads_amd64.s), for CPUs with
// AVX512_VNNI and AVX512VL: same arguments and bits; prep is not used.

//go:noescape
func dotQ4_0QuadsVNNI(n int, w, a, prep []byte, out *[4]float32)

//go:noescape
func dotQ8_0QuadsVNNI(n int, w, a, prep []byte, out *[4]float32)

// VNNIKernels reports whether the active path runs the AVX512-VNNI
// kernels (the AVX-512 path on a CPU with AVX512_VNNI).
func VNNIKernels() bool { return activePath == PathAVX512 && hasVNNI }

// quadPrepQ4_0Fast is quadPrepQ4_0 in assembly.
func quadPrepQ4_0Fast(dst, a []byte, n int) {
	if len(dst) < quadPrepQ4_0Bytes(n) || len(a) < n/32*34 {
		panic("kernels: quadPrepQ4_0: short buffers")
	}
	quadPrepQ4_0AVX2(dst, a, n/32)
}
