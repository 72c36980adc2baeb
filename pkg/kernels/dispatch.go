package kernels

import (
	"fmt"
	"os"
	"strings"
)

// Path is an implementation of the hot kernels: the portable Go reference
// or one written for a family of CPU instructions. Every path gives the
// generic path's bits on the integer-quantized dot products and activation
// quantizers; the float dot products (F32, F16, BF16) of the SIMD paths
// sum in float32 lanes and are held to a stated tolerance instead (see
// floatDotTolerance in the tests).
type Path int

const (
	PathGeneric Path = iota // plain Go, every architecture: the reference
	PathAVX2                // amd64 AVX2 + FMA + F16C
	PathAVX512              // amd64 AVX-512 F/BW/VL: the AVX2 kernels, and VNNI ones where the CPU has AVX512_VNNI
	numPaths
)

var pathNames = [numPaths]string{"generic", "avx2", "avx512"}

func (p Path) String() string {
	if p >= 0 && p < numPaths {
		return pathNames[p]
	}
	return fmt.Sprintf("Path(%d)", int(p))
}

// ParsePath reads a path name as LLMBOOT_KERNELS takes it.
func ParsePath(s string) (Path, error) {
	for p, name := range pathNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Path(p), nil
		}
	}
	return 0, fmt.Errorf("kernels: unknown kernel path %q (want generic, avx2 or avx512)", s)
}

// KernelsEnv names the environment variable that forces a path; it is
// read once, when the package initialises.
const KernelsEnv = "LLMBOOT_KERNELS"

var (
	activePath Path
	pathNote   string // why the active path differs from the one asked for, if it does
)

// ActivePath is the path the kernels use: the best one this CPU supports,
// or the one LLMBOOT_KERNELS asked for at start-up (lowered to the best
// supported one below it when the CPU lacks it; PathNote says so).
func ActivePath() Path { return activePath }

// PathLabel names the active path for logs: its name, "+vnni" when it
// runs the VNNI kernels.
func PathLabel() string {
	if VNNIKernels() {
		return activePath.String() + "+vnni"
	}
	return activePath.String()
}

// PathNote explains a LLMBOOT_KERNELS request that could not be honoured
// as given ("" when there was none).
func PathNote() string { return pathNote }

// PathSupported reports whether this CPU (and build) can run p.
func PathSupported(p Path) bool { return p == PathGeneric || archSupports(p) }

// SupportedPaths lists the paths this machine can run, generic first.
func SupportedPaths() []Path {
	var ps []Path
	for p := PathGeneric; p < numPaths; p++ {
		if PathSupported(p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// genericKernels is the reference table; typeKernels is it with the active
// path's replacements applied.
var genericKernels [len(typeKernels)]typeKernel

// dot4Kernel computes four rows against one activation row: row i's
// block k starts at w[i*rowStride+k*blockStride] (see Matrix.strides), and
// out[i] gets exactly the bits the type's dot gives for row i.
type dot4Kernel func(n int, w []byte, rowStride, blockStride int, a []byte, out *[4]float32)

// dot4Kernels holds, per weight type, the active path's four-row kernel
// where it has one. MatMul uses it to run four independent accumulations
// at once.
var dot4Kernels [len(typeKernels)]dot4Kernel

// tok4Kernel computes one weight row against four activation rows astride
// bytes apart, out[i] getting exactly the bits the type's dot gives for
// activation row i.
type tok4Kernel func(n int, w []byte, a []byte, astride int, out *[4]float32)

// tok4Kernels holds, per weight type, the active path's four-token kernel
// where it has one. For types with no batch kernel MatMul uses it to
// decode each weight block once per four tokens rather than per token.
var tok4Kernels [len(typeKernels)]tok4Kernel

// rowsKernel computes len(out) weight rows wstride bytes apart against one
// activation row, out[r] getting exactly the bits the type's dot gives for
// row r: for small rows (small models) a call per row costs as much as
// the row.
type rowsKernel func(n int, w []byte, wstride int, a []byte, out []float32)

// rowsKernels holds, per weight type, the active path's many-row kernel
// where it has one; MatMul uses it for a single row-major activation row.
var rowsKernels [len(typeKernels)]rowsKernel

// quadKernel computes the four rows of one quad of a LayoutQuads matrix
// against one activation row, out[i] getting exactly the bits the type's
// dot gives for row i. prep, when set, derives from each converted
// activation row the extra data (prepBytes(n) bytes for n elements) the
// kernel reads, once per MatMul rather than once per quad.
type quadKernel struct {
	dot func(n int, w, a, prep []byte, out *[4]float32)
	// rows, where set, is dot for len(out)/4 quads one after another in
	// w: MatMul's one call per chunk at one token (a Go call per quad was
	// ~3% of Q4_0 generation).
	rows      func(n int, w, a, prep []byte, out []float32)
	prep      func(dst, a []byte, n int)
	prepBytes func(n int) int
}

// quadKernels holds the active path's quad kernels by weight type; where
// there is none, MatMul gathers each row of a LayoutQuads matrix and runs
// the type's dot.
var quadKernels [len(typeKernels)]quadKernel

// quantizeQ8_0Act is the Q8_0 activation quantizer of the active path.
var quantizeQ8_0Act = quantizeQ8_0Runtime

func init() {
	initTypeKernels()
	genericKernels = typeKernels
	best := PathGeneric
	for p := PathGeneric; p < numPaths; p++ {
		if PathSupported(p) {
			best = p
		}
	}
	want := best
	if s, ok := os.LookupEnv(KernelsEnv); ok && s != "" {
		p, err := ParsePath(s)
		switch {
		case err != nil:
			pathNote = fmt.Sprintf("%s=%q is not a kernel path (generic, avx2, avx512); using %s", KernelsEnv, s, best)
		case !PathSupported(p):
			want = p
			for !PathSupported(want) {
				want--
			}
			pathNote = fmt.Sprintf("%s=%s: this CPU lacks it; using %s", KernelsEnv, p, want)
		default:
			want = p
		}
	}
	usePath(want)
}

// usePath switches every kernel to path p, which must be supported. It is
// not safe to call while kernels run; the tests use it between cases.
func usePath(p Path) {
	typeKernels = genericKernels
	dot4Kernels = [len(typeKernels)]dot4Kernel{}
	tok4Kernels = [len(typeKernels)]tok4Kernel{}
	rowsKernels = [len(typeKernels)]rowsKernel{}
	quadKernels = [len(typeKernels)]quadKernel{}
	kquantMatmul = [len(typeKernels)]*kquantKernels{}
	batchKernels = [len(typeKernels)]*batchKernel{}
	blockwiseKernels = [len(typeKernels)]*batchKernel{}
	quantizeQ8_0Act = quantizeQ8_0Runtime
	dotFloats = dotFloatsGeneric
	swiGLUVec = swiGLUVecGeneric
	weightedSum = weightedSumGeneric
	dotRows = dotRowsGeneric
	if p != PathGeneric {
		archInstall(p, &typeKernels)
	}
	activePath = p
}
