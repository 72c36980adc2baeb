package kernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// simdPaths are the non-generic paths the tests compare with the generic
// one: every path this machine runs, or only the one LLMBOOT_KERNELS names.
func simdPaths(t testing.TB) []Path {
	var ps []Path
	if s := os.Getenv(KernelsEnv); s != "" {
		p, err := ParsePath(s)
		if err != nil {
			t.Fatalf("%s: %v", KernelsEnv, err)
		}
		if p != PathGeneric && PathSupported(p) {
			ps = append(ps, p)
		}
	} else {
		for _, p := range SupportedPaths() {
			if p != PathGeneric {
				ps = append(ps, p)
			}
		}
	}
	if len(ps) == 0 {
		t.Skipf("no SIMD kernel path to compare on this machine (%s=%q)", KernelsEnv, os.Getenv(KernelsEnv))
	}
	return ps
}

// testedPaths is the generic path and simdPaths, without skipping.
func testedPaths() []Path {
	ps := []Path{PathGeneric}
	for _, p := range SupportedPaths() {
		if s := os.Getenv(KernelsEnv); p != PathGeneric && (s == "" || strings.EqualFold(s, p.String())) {
			ps = append(ps, p)
		}
	}
	return ps
}

// onPath runs fn with every kernel switched to p, then restores the path
// the package started with.
func onPath(p Path, fn func()) {
	saved := activePath
	usePath(p)
	defer usePath(saved)
	fn()
}

// floatTypes are the weight types whose SIMD dot products sum in float32
// and are held to floatDotTolerance rather than to the generic bits.
var floatTypes = map[tensor.Type]bool{tensor.F32: true, tensor.F16: true, tensor.BF16: true}

// floatDotTolerance bounds |SIMD - generic| for the float dot products:
// each of the 32 float32 lanes adds about n/32 fused products, the lanes
// are added in 5 more steps and up to 7 tail products follow, each step
// within 2^-24 of the magnitude summed so far (at most sum|w_i*a_i|); the
// generic float64 sum adds one final rounding. For n = 4096 that is
// 8.6e-6 of sum|w_i*a_i|.
func floatDotTolerance(n int, mag float64) float64 {
	return float64(n/32+16) * 0x1p-24 * mag
}

// absDot is sum|w_i*a_i| over the decoded rows.
func absDot(t testing.TB, w tensor.Type, n int, wb, ab []byte) float64 {
	wd, ad := decode(t, w, wb, n), decode(t, ActivationType(w), ab, n)
	var mag float64
	for i := range wd {
		mag += math.Abs(float64(wd[i]) * float64(ad[i]))
	}
	return mag
}

// sameFloat is bit equality, with any two NaNs equal.
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// checkDot compares path p's dot product of w with the generic one.
func checkDot(t testing.TB, p Path, w tensor.Type, n int, wb, ab []byte, what string) {
	t.Helper()
	want := genericKernels[w].dot(n, wb, ab)
	var got float32
	onPath(p, func() { got = VecDot(w, n, wb, ab) })
	if !floatTypes[w] {
		if !sameFloat(got, want) {
			t.Errorf("%s %s n=%d %s: %g (%#08x), generic %g (%#08x)", p, w, n, what, got, math.Float32bits(got), want, math.Float32bits(want))
		}
		checkDot4(t, p, w, n, wb, ab, what)
		return
	}
	tol := floatDotTolerance(n, absDot(t, w, n, wb, ab))
	if d := math.Abs(float64(got) - float64(want)); !(d <= tol) && !(math.IsInf(float64(got), 0) && got == want) {
		t.Errorf("%s %s n=%d %s: %g, generic %g: diff %g over %g", p, w, n, what, got, want, d, tol)
	}
}

// checkDot4 runs path p's four-row kernel for w, if it has one, on four
// rows made from rotations of wb's blocks, and compares each result with
// the generic dot product of that row.
func checkDot4(t testing.TB, p Path, w tensor.Type, n int, wb, ab []byte, what string) {
	t.Helper()
	var dot4 dot4Kernel
	onPath(p, func() { dot4 = dot4Kernels[w] })
	if dot4 == nil {
		return
	}
	bs := w.BlockBytes()
	rows := make([]byte, 0, 4*len(wb))
	for i := 0; i < 4; i++ {
		k := i % (len(wb) / bs) * bs
		rows = append(append(rows, wb[k:]...), wb[:k]...)
	}
	var got [4]float32
	dot4(n, rows, len(wb), bs, ab, &got)
	for i := range got {
		row := rows[i*len(wb) : (i+1)*len(wb)]
		if want := genericKernels[w].dot(n, row, ab); !sameFloat(got[i], want) {
			t.Errorf("%s %s four-row kernel, row %d, n=%d %s: %g, generic %g", p, w, i, n, what, got[i], want)
		}
	}
	var quad quadKernel
	onPath(p, func() { quad = quadKernels[w] })
	if quad.dot == nil {
		return
	}
	quads, err := RepackQuads(make([]byte, len(rows)), Matrix{Type: w, Rows: 4, Cols: n, Data: rows})
	if err != nil {
		t.Fatal(err)
	}
	var prep []byte
	if quad.prep != nil {
		prep = make([]byte, quad.prepBytes(n))
		quad.prep(prep, ab, n)
		if want := make([]byte, len(prep)); w == tensor.Q4_0 {
			quadPrepQ4_0(want, ab, n)
			if !bytes.Equal(prep, want) {
				t.Errorf("%s %s quad prep differs from quadPrepQ4_0, n=%d %s", p, w, n, what)
			}
		}
	}
	quad.dot(n, quads.Data, ab, prep, &got)
	for i := range got {
		row := rows[i*len(wb) : (i+1)*len(wb)]
		if want := genericKernels[w].dot(n, row, ab); !sameFloat(got[i], want) {
			t.Errorf("%s %s quad kernel, row %d, n=%d %s: %g, generic %g", p, w, i, n, what, got[i], want)
		}
	}
}

// randF16 is a random finite f16 of either sign with an exponent in
// [lo, hi] (unbiased).
func randF16(r *rand.Rand, lo, hi int) uint16 {
	e := uint16(lo + r.IntN(hi-lo+1) + 15)
	return uint16(r.IntN(2))<<15 | e<<10 | uint16(r.IntN(1024))
}

// rawBlocks fills nb blocks of type typ with random bytes whose scale
// fields are finite (f16 exponents in [-14, 3], Q8_K's float32 d within
// 2^±20) and whose int8 activation values lie in [-127, 127], as the
// activation quantizers write them. fill picks the level bytes: random,
// or one of the edge patterns.
func rawBlocks(r *rand.Rand, typ tensor.Type, nb int, fill string) []byte {
	bs := typ.BlockBytes()
	out := make([]byte, nb*bs)
	for b := 0; b < nb; b++ {
		y := out[b*bs : (b+1)*bs]
		for i := range y {
			switch fill {
			case "zero":
				y[i] = 0
			case "max":
				y[i] = 0xff
			case "min":
				y[i] = 0x80
			case "127":
				y[i] = 0x7f
			default:
				y[i] = byte(r.Uint32())
			}
		}
		scale := func(off int) { binary.LittleEndian.PutUint16(y[off:], randF16(r, -14, 3)) }
		clampQ := func(q []byte) {
			for i := range q {
				if q[i] == 0x80 {
					q[i] = 0x81 // -127
				}
			}
		}
		switch typ {
		case tensor.F16, tensor.BF16, tensor.F32:
		case tensor.Q4_0, tensor.Q5_0:
			scale(0)
		case tensor.Q8_0:
			scale(0)
		case tensor.Q4_1, tensor.Q5_1:
			scale(0)
			scale(2)
		case tensor.Q8_1:
			scale(0)
			scale(2)
			clampQ(y[4:])
		case tensor.Q2_K:
			scale(80)
			scale(82)
		case tensor.Q3_K:
			scale(108)
		case tensor.Q4_K, tensor.Q5_K:
			scale(0)
			scale(2)
		case tensor.Q6_K:
			scale(208)
		case tensor.Q8_K:
			d := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(41)-20)))
			binary.LittleEndian.PutUint32(y, math.Float32bits(d))
			q := y[4:260]
			clampQ(q)
			for j := 0; j < 16; j++ {
				var s int
				for _, v := range q[16*j : 16*j+16] {
					s += int(int8(v))
				}
				binary.LittleEndian.PutUint16(y[260+2*j:], uint16(int16(s)))
			}
		}
	}
	if typ == tensor.F16 || typ == tensor.BF16 {
		// Keep the elements finite and away from overflow in a product.
		for i := 0; i+1 < len(out); i += 2 {
			if typ == tensor.F16 {
				binary.LittleEndian.PutUint16(out[i:], randF16(r, -14, 7))
			} else {
				binary.LittleEndian.PutUint16(out[i:], FP32ToBF16(float32(r.NormFloat64())))
			}
		}
	}
	if typ == tensor.F32 {
		for i := 0; i+3 < len(out); i += 4 {
			binary.LittleEndian.PutUint32(out[i:], math.Float32bits(float32(r.NormFloat64()*100)))
		}
	}
	return out
}

// activationRaw makes nb blocks of activation type act for weights of
// type w: Q8_0 activations must keep their int8 values off -128.
func activationRaw(r *rand.Rand, act tensor.Type, nb int, fill string) []byte {
	b := rawBlocks(r, act, nb, fill)
	if act == tensor.Q8_0 {
		for i := 0; i < nb; i++ {
			for j := 2; j < 34; j++ {
				if b[i*34+j] == 0x80 {
					b[i*34+j] = 0x81
				}
			}
		}
	}
	return b
}

// TestSIMDDotsMatchGeneric runs every weight type on every SIMD path
// against the generic dot product: rows from the quantizers (several
// shapes of data) and raw blocks (random, all zero, all 0xff, 0x80, 0x7f
// bytes; the ±127 activations), over odd block counts. Quantized types
// must give the generic bits, float types stay within floatDotTolerance.
func TestSIMDDotsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, p := range simdPaths(t) {
		for _, w := range weightTypes {
			act := ActivationType(w)
			bsz := w.BlockSize()
			counts := []int{1, 2, 3, 7, 8, 9, 33, 64}
			if bsz == 1 {
				counts = []int{1, 7, 8, 9, 31, 32, 33, 63, 64, 100, 512, 4099}
			} else if bsz == 256 {
				counts = []int{1, 2, 3, 5, 16}
			}
			for _, nb := range counts {
				n := nb * bsz
				for kind := 0; kind < 6; kind++ {
					wb := encode(t, w, randRow(r, n, kind))
					ab := encode(t, act, randRow(r, n, kind+1))
					if act == tensor.Q8_0 || act == tensor.Q8_1 {
						if err := QuantizeActivations(act, ab, randRow(r, n, kind+1)); err != nil {
							t.Fatal(err)
						}
					}
					checkDot(t, p, w, n, wb, ab, fmt.Sprintf("quantized kind %d", kind))
				}
				for _, wf := range []string{"random", "zero", "max", "min", "127"} {
					for _, af := range []string{"random", "127", "max", "zero"} {
						wb := rawBlocks(r, w, nb, wf)
						ab := activationRaw(r, act, nb, af)
						checkDot(t, p, w, n, wb, ab, "raw "+wf+"/"+af)
					}
				}
			}
		}
	}
}

// TestSIMDActivationQuantizers compares the SIMD Q8_0 activation
// quantizer with quantizeQ8_0Runtime byte for byte: random rows of every
// shape, ties, zeros, values whose scale is an f16 subnormal or overflows
// f16, and huge finite values.
func TestSIMDActivationQuantizers(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var rows [][]float32
	for kind := 0; kind < 12; kind++ {
		rows = append(rows, randRow(r, 32*(1+kind), kind))
	}
	edge := make([]float32, 32*8)
	edge[0], edge[1], edge[2], edge[3] = 127, 2.5, -3.5, 0.5 // id = 1: ties
	edge[32] = float32(math.Copysign(0, -1))                 // block 1: all zero (one -0)
	for i := 64; i < 96; i++ {                               // block 2: scale an f16 subnormal
		edge[i] = float32(r.NormFloat64()) * 1e-6
	}
	for i := 96; i < 128; i++ { // block 3: scale beyond f16 (inf)
		edge[i] = float32(r.NormFloat64()) * 1e30
	}
	edge[128], edge[129] = math.MaxFloat32, -math.MaxFloat32 // block 4
	edge[160] = math.SmallestNonzeroFloat32                  // block 5: a denormal alone
	for i := 192; i < 224; i++ {                             // block 6: halves of 127/amax steps
		edge[i] = float32(i-208) + 0.5
	}
	for i := 224; i < 256; i++ { // block 7: negative ramp
		edge[i] = -float32(i - 223)
	}
	rows = append(rows, edge)
	for _, p := range simdPaths(t) {
		for i, x := range rows {
			want := make([]byte, len(x)/32*34)
			got := make([]byte, len(want))
			quantizeQ8_0Runtime(want, x)
			onPath(p, func() {
				if err := QuantizeActivations(tensor.Q8_0, got, x); err != nil {
					t.Fatal(err)
				}
			})
			if j := firstDiff(got, want); j < len(want) {
				t.Errorf("%s Q8_0 row %d: byte %d (block %d) = %#02x, generic %#02x", p, i, j, j/34, got[j], want[j])
			}
		}
	}
}

// TestPathSelection checks the path names and that the active path is a
// supported one.
func TestPathSelection(t *testing.T) {
	for p := PathGeneric; p < numPaths; p++ {
		q, err := ParsePath(p.String())
		if err != nil || q != p {
			t.Errorf("ParsePath(%q) = %v, %v", p.String(), q, err)
		}
	}
	if _, err := ParsePath("sse9"); err == nil {
		t.Error("ParsePath accepted sse9")
	}
	if !PathSupported(ActivePath()) {
		t.Errorf("active path %s is not supported here", ActivePath())
	}
	if s := os.Getenv(KernelsEnv); s != "" {
		if p, err := ParsePath(s); err == nil && PathSupported(p) && ActivePath() != p {
			t.Errorf("%s=%s but the active path is %s", KernelsEnv, s, ActivePath())
		}
	}
	t.Logf("paths here: %v, active %s, VNNI kernels %v %s", SupportedPaths(), ActivePath(), VNNIKernels(), PathNote())
}

// FuzzSIMDDot feeds random blocks of every weight type to every SIMD path
// and compares with the generic dot product (bits for the quantized
// types, floatDotTolerance for the float ones).
func FuzzSIMDDot(f *testing.F) {
	f.Add(uint8(3), uint16(7), uint64(1), []byte{0xff, 0x80, 0x7f})
	f.Add(uint8(4), uint16(1), uint64(2), []byte{})
	f.Add(uint8(1), uint16(33), uint64(3), []byte{0, 0, 0})
	paths := simdPaths(f)
	f.Fuzz(func(t *testing.T, ti uint8, blocks uint16, seed uint64, pattern []byte) {
		w := weightTypes[int(ti)%len(weightTypes)]
		act := ActivationType(w)
		nb := 1 + int(blocks)%40
		if w.BlockSize() == 1 {
			nb = 1 + int(blocks)%700
		}
		r := rand.New(rand.NewPCG(seed, uint64(blocks)))
		wb := rawBlocks(r, w, nb, "random")
		ab := activationRaw(r, act, nb, "random")
		// The pattern overwrites level bytes (not scales): edge values
		// wherever the fuzzer puts them.
		if !floatTypes[w] && len(pattern) > 0 {
			for i := range wb {
				if pb := pattern[i%len(pattern)]; pb&1 == 1 && !isScaleByte(w, i%w.BlockBytes()) {
					wb[i] = pb
				}
			}
		}
		for _, p := range paths {
			checkDot(t, p, w, nb*w.BlockSize(), wb, ab, fmt.Sprintf("seed %d", seed))
		}
	})
}

// isScaleByte reports whether byte off of a block of w belongs to a float
// scale field, which the fuzzer leaves finite.
func isScaleByte(w tensor.Type, off int) bool {
	switch w {
	case tensor.Q4_0, tensor.Q5_0, tensor.Q8_0:
		return off < 2
	case tensor.Q4_1, tensor.Q5_1, tensor.Q4_K, tensor.Q5_K:
		return off < 4
	case tensor.Q2_K:
		return off >= 80
	case tensor.Q3_K:
		return off >= 108
	case tensor.Q6_K:
		return off >= 208
	}
	return false
}

// TestSIMDSwiGLU compares SwiGLU on every SIMD path with the generic one,
// bit for bit: ordinary and huge gate values (whose exp leaves the normal
// range, handed back to the Go code), zeros, tiny values, odd lengths, and
// dst aliasing gate.
func TestSIMDSwiGLU(t *testing.T) {
	saved := ActivePath()
	defer usePath(saved)
	r := rand.New(rand.NewPCG(15, 16))
	for _, p := range simdPaths(t) {
		for _, n := range []int{0, 7, 16, 17, 100, 5632} {
			for kind := 0; kind < 4; kind++ {
				gate, up := make([]float32, n), make([]float32, n)
				for i := range gate {
					up[i] = float32(r.NormFloat64())
					switch kind {
					case 0:
						gate[i] = float32(r.NormFloat64() * 3)
					case 1: // exp's argument near and past the normal range
						gate[i] = float32(r.NormFloat64() * 100)
					case 2:
						gate[i] = []float32{0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 87.3, -87.3, 88.8, -88.8, 104, -104, 200, -200, math.MaxFloat32, -math.MaxFloat32}[i%14]
					case 3:
						gate[i] = float32(r.NormFloat64() * 1e-3)
					}
				}
				want := make([]float32, n)
				usePath(PathGeneric)
				SwiGLU(want, gate, up)
				usePath(p)
				got := append([]float32(nil), gate...)
				SwiGLU(got, got, up) // in place, as the forward pass calls it
				usePath(PathGeneric)
				for i := range want {
					if !sameFloat(got[i], want[i]) {
						t.Errorf("%s n=%d kind %d: SwiGLU(%g, %g)[%d] = %g, generic %g", p, n, kind, gate[i], up[i], i, got[i], want[i])
						break
					}
				}
			}
		}
	}
}

// TestSIMDWeightedSum holds each path's WeightedSum to the generic loop bit
// for bit, over column counts around the kernel's 8- and 32-wide steps,
// row counts from none to many, a row stride wider than the columns (one
// head's slice of the V cache), and values that overflow, underflow and
// carry infinities.
func TestSIMDWeightedSum(t *testing.T) {
	saved := ActivePath()
	defer usePath(saved)
	r := rand.New(rand.NewPCG(25, 26))
	for _, p := range simdPaths(t) {
		for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 40, 64, 100, 128} {
			for _, nw := range []int{0, 1, 2, 5, 64, 300} {
				for kind := 0; kind < 3; kind++ {
					stride := n + 3
					w, rows := make([]float32, nw), make([]float32, nw*stride)
					for i := range w {
						w[i] = float32(r.Float64())
					}
					for i := range rows {
						switch kind {
						case 0:
							rows[i] = float32(r.NormFloat64())
						case 1:
							rows[i] = []float32{3e38, -3e38, 1e-40, float32(math.Inf(1)), 1, -1, 0}[r.IntN(7)]
						case 2:
							rows[i] = float32(r.NormFloat64() * 1e-30)
						}
					}
					want, got := make([]float32, n), make([]float32, n)
					for i := range got {
						got[i] = float32(math.NaN()) // overwritten, not added to
					}
					usePath(PathGeneric)
					WeightedSum(want, w, rows, stride)
					usePath(p)
					WeightedSum(got, w, rows, stride)
					usePath(PathGeneric)
					for j := range want {
						if !sameFloat(got[j], want[j]) {
							t.Errorf("%s n=%d rows=%d kind %d: column %d = %g, generic %g", p, n, nw, kind, j, got[j], want[j])
							break
						}
					}
				}
			}
		}
	}
}

// TestFloatRowsKernels holds the many-row float kernels (F32, F16, BF16)
// to their one-row kernels bit for bit, at lengths around the 32-, 16- and
// 8-wide steps and the one-at-a-time tail, with rows further apart than
// their length.
func TestFloatRowsKernels(t *testing.T) {
	if !PathSupported(PathAVX2) {
		t.Skip("no AVX2 path here")
	}
	r := rand.New(rand.NewPCG(27, 28))
	for _, w := range []tensor.Type{tensor.F32, tensor.F16, tensor.BF16} {
		var rowsKernel rowsKernel
		var dot func(n int, w, a []byte) float32
		onPath(PathAVX2, func() { rowsKernel, dot = rowsKernels[w], typeKernels[w].dot })
		if rowsKernel == nil {
			t.Errorf("%s: no many-row kernel on the AVX2 path", w)
			continue
		}
		for _, n := range []int{1, 7, 8, 9, 16, 31, 33, 64, 100, 172, 4099} {
			for _, rows := range []int{1, 2, 5} {
				rb := typeBytes(t, w, n)
				stride := rb + 12
				wb := make([]byte, rows*stride)
				for i := 0; i < rows; i++ {
					copy(wb[i*stride:], encode(t, w, randRow(r, n, i)))
				}
				a := encode(t, w, randRow(r, n, 1))
				out := make([]float32, rows)
				rowsKernel(n, wb, stride, a, out)
				for i, got := range out {
					if want := dot(n, wb[i*stride:i*stride+rb], a); !sameFloat(got, want) {
						t.Errorf("%s n=%d row %d of %d: %g, one-row kernel %g", w, n, i, rows, got, want)
					}
				}
			}
		}
	}
}

// TestDotRows holds each path's DotRows to Dot on every row, bit for bit,
// for head widths around the kernel's steps and rows a cache stride apart.
func TestDotRows(t *testing.T) {
	saved := ActivePath()
	defer usePath(saved)
	r := rand.New(rand.NewPCG(29, 30))
	for _, p := range SupportedPaths() {
		usePath(p)
		for _, n := range []int{0, 1, 7, 8, 9, 32, 48, 64, 100, 128} {
			for _, nrows := range []int{1, 3, 40} {
				stride := n + 5
				x, rows := randRow(r, n, 0), randRow(r, nrows*stride, 1)
				out := make([]float32, nrows)
				DotRows(out, x, rows, stride)
				for i, got := range out {
					if want := Dot(x, rows[i*stride:i*stride+n]); !sameFloat(got, want) {
						t.Errorf("%s n=%d row %d of %d: %g, Dot %g", p, n, i, nrows, got, want)
					}
				}
			}
		}
	}
}
