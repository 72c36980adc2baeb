package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/llmboot/llmboot/pkg/tensor"
)

// weightTypes are the types Supported should accept.
var weightTypes = []tensor.Type{
	tensor.F32, tensor.F16, tensor.BF16, tensor.Q8_0, tensor.Q4_0, tensor.Q4_1, tensor.Q5_0, tensor.Q5_1,
	tensor.Q2_K, tensor.Q3_K, tensor.Q4_K, tensor.Q5_K, tensor.Q6_K,
}

// randRow fills a row with one of several shapes of data: Gaussian,
// uniform, heavy-tailed, one-signed, with an outlier, or all equal.
func randRow(r *rand.Rand, n, kind int) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch kind % 6 {
		case 0:
			x[i] = float32(r.NormFloat64())
		case 1:
			x[i] = float32(r.Float64()*2 - 1)
		case 2:
			x[i] = float32(math.Pow(r.NormFloat64(), 5))
		case 3:
			x[i] = float32(r.Float64() * 3)
		case 4:
			x[i] = float32(r.NormFloat64() * 0.02)
			if i == n/3 {
				x[i] = -4
			}
		case 5:
			x[i] = 0.25
		}
	}
	return x
}

func encode(t testing.TB, typ tensor.Type, x []float32) []byte {
	t.Helper()
	rb, err := typ.RowBytes(len(x))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, rb)
	if err := QuantizeRow(typ, b, x); err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, typ tensor.Type, b []byte, n int) []float32 {
	t.Helper()
	y := make([]float32, n)
	if err := DequantizeRow(typ, y, b); err != nil {
		t.Fatal(err)
	}
	return y
}

func TestTypeTables(t *testing.T) {
	wantAct := map[tensor.Type]tensor.Type{
		tensor.F32: tensor.F32, tensor.F16: tensor.F16, tensor.BF16: tensor.BF16,
		tensor.Q4_0: tensor.Q8_0, tensor.Q5_0: tensor.Q8_0, tensor.Q8_0: tensor.Q8_0,
		tensor.Q4_1: tensor.Q8_1, tensor.Q5_1: tensor.Q8_1,
		tensor.Q2_K: tensor.Q8_K, tensor.Q3_K: tensor.Q8_K, tensor.Q4_K: tensor.Q8_K, tensor.Q5_K: tensor.Q8_K, tensor.Q6_K: tensor.Q8_K,
	}
	for _, w := range weightTypes {
		if !Supported(w) {
			t.Errorf("Supported(%s) = false", w)
		}
		if got := ActivationType(w); got != wantAct[w] {
			t.Errorf("ActivationType(%s) = %s, want %s", w, got, wantAct[w])
		}
	}
	for _, w := range []tensor.Type{tensor.Q8_1, tensor.Q8_K, tensor.I8, tensor.I32, tensor.F64, tensor.Type(99)} {
		if Supported(w) {
			t.Errorf("Supported(%s) = true", w)
		}
	}
}

// TestVecDotMatchesDequantized compares VecDot with the float64 dot
// product of the decoded weight and activation rows. Tolerance: 4e-6 of
// sum|w_i*a_i| (float32 scale products and up to 16 float32 block
// additions, each within 2^-24), plus, for the Q8_1 pairings, 2^-10 of
// |m*s| per block, because ggml uses the f16-rounded block sum s rather
// than the decoded values.
func TestVecDotMatchesDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 512
	for _, w := range weightTypes {
		act := ActivationType(w)
		for kind := 0; kind < 12; kind++ {
			wx, ax := randRow(r, n, kind), randRow(r, n, kind/2+1)
			wb, ab := encode(t, w, wx), encode(t, act, ax)
			wd, ad := decode(t, w, wb, n), decode(t, act, ab, n)
			var ref, mag float64
			for i := range wd {
				p := float64(wd[i]) * float64(ad[i])
				ref += p
				mag += math.Abs(p)
			}
			tol := 4e-6 * mag
			if act == tensor.Q8_1 {
				bw, ba := w.BlockBytes(), act.BlockBytes()
				for b := 0; b < n/32; b++ {
					m, s := f16At(wb[b*bw:], 2), f16At(ab[b*ba:], 2)
					tol += math.Abs(float64(m)*float64(s)) * 0x1p-10
				}
			}
			got := VecDot(w, n, wb, ab)
			if d := math.Abs(float64(got) - ref); !(d <= tol) {
				t.Errorf("%s kind %d: VecDot = %g, dequantized dot %g, diff %g over %g", w, kind, got, ref, d, tol)
			}
		}
	}
}

func TestVecDotBadInput(t *testing.T) {
	row := make([]byte, 4096)
	for _, c := range []struct {
		name string
		w    tensor.Type
		n    int
		wb   []byte
		ab   []byte
	}{
		{"unsupported", tensor.Q8_K, 256, row, row},
		{"partial block", tensor.Q4_0, 48, row, row},
		{"short weights", tensor.Q4_K, 512, row[:200], row},
		{"short activations", tensor.F32, 64, row, row[:255]},
	} {
		if got := VecDot(c.w, c.n, c.wb, c.ab); !math.IsNaN(float64(got)) {
			t.Errorf("%s: VecDot = %g, want NaN", c.name, got)
		}
	}
}

// TestQ8_1Sum checks the s field: ggml's f16(d*sum(q)) with d before its
// f16 rounding, which also agrees with the decoded values' sum.
func TestQ8_1Sum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for kind := 0; kind < 6; kind++ {
		x := randRow(r, 256, kind)
		enc := encode(t, tensor.Q8_1, x)
		for b := 0; b < len(x)/32; b++ {
			blk := enc[b*q8_1Bytes : (b+1)*q8_1Bytes]
			var sum int
			for _, q := range blk[4:36] {
				sum += int(int8(q))
			}
			var amax float32
			for _, v := range x[b*32 : (b+1)*32] {
				amax = max(amax, abs32(v))
			}
			s := binary.LittleEndian.Uint16(blk[2:])
			if want := FP32ToFP16(float32(sum) * (amax / 127)); s != want {
				t.Errorf("kind %d block %d: s = %#04x, want %#04x", kind, b, s, want)
			}
			decodedSum := float64(f16At(blk, 0)) * float64(sum)
			if d := math.Abs(float64(FP16ToFP32(s)) - decodedSum); d > math.Abs(decodedSum)*0x1p-10+1e-30 {
				t.Errorf("kind %d block %d: s = %g, decoded values sum to %g", kind, b, FP16ToFP32(s), decodedSum)
			}
		}
	}
}

// TestQ8_KBlockSums checks Q8_K's bsums against its values and its
// all-zero block.
func TestQ8_KBlockSums(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := append(randRow(r, 256, 0), make([]float32, 256)...)
	enc := encode(t, tensor.Q8_K, x)
	for b := 0; b < 2; b++ {
		y := q8KBlock(enc, b)
		for j := 0; j < 16; j++ {
			var sum int32
			for _, q := range y.qs[16*j : 16*j+16] {
				sum += int32(int8(q))
			}
			if y.bsum(j) != sum {
				t.Errorf("block %d: bsums[%d] = %d, values sum to %d", b, j, y.bsum(j), sum)
			}
		}
	}
	if y := q8KBlock(enc, 1); y.d != 0 {
		t.Errorf("zero block: d = %g", y.d)
	}
}

func TestRowErrors(t *testing.T) {
	buf := make([]byte, 1024)
	f := make([]float32, 256)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"dequant unsupported", DequantizeRow(tensor.I32, f, buf), "I32"},
		{"dequant partial", DequantizeRow(tensor.Q4_K, f[:100], buf), "multiple"},
		{"dequant short", DequantizeRow(tensor.Q8_0, f, buf[:100]), "need 272 bytes"},
		{"quant unsupported", QuantizeRow(tensor.F64, buf, f), "F64"},
		{"quant partial", QuantizeRow(tensor.Q8_0, buf, f[:33]), "multiple"},
		{"quant short", QuantizeRow(tensor.Q6_K, buf[:209], f), "need 210 bytes"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
}

func TestMatrixValidate(t *testing.T) {
	for _, c := range []struct {
		m    Matrix
		want string // "" for valid
	}{
		{Matrix{Type: tensor.Q4_K, Rows: 2, Cols: 512, Data: make([]byte, 2*288)}, ""},
		{Matrix{Type: tensor.F32, Rows: 0, Cols: 3}, ""},
		{Matrix{Type: tensor.Q4_K, Rows: 2, Cols: 512, Data: make([]byte, 2*288+1)}, "Q4_K 2x512: data is 577 bytes, want 576"},
		{Matrix{Type: tensor.Q8_0, Rows: 1, Cols: 48, Data: make([]byte, 51)}, "Q8_0 1x48"},
		{Matrix{Type: tensor.Type(77), Rows: 1, Cols: 32}, "unknown type"},
		{Matrix{Type: tensor.F16, Rows: 1, Cols: 0}, "bad shape"},
		{Matrix{Type: tensor.Q8_0, Rows: 4, Cols: 32, Data: make([]byte, 4*34), Layout: LayoutQuads}, ""},
		{Matrix{Type: tensor.Q8_0, Rows: 2, Cols: 32, Data: make([]byte, 2*34), Layout: LayoutQuads}, "no quads layout"},
		{Matrix{Type: tensor.Q4_K, Rows: 4, Cols: 256, Data: make([]byte, 4*144), Layout: LayoutQuads}, "no quads layout"},
		{Matrix{Type: tensor.F32, Rows: 1, Cols: 1, Data: make([]byte, 4), Layout: 9}, "unknown layout(9)"},
	} {
		err := c.m.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate(%s %dx%d, %d bytes) = %v, want %q", c.m.Type, c.m.Rows, c.m.Cols, len(c.m.Data), err, c.want)
		}
	}
	m := Matrix{Type: tensor.Q8_0, Rows: 3, Cols: 64, Data: make([]byte, 3*68)}
	for i := range m.Data {
		m.Data[i] = byte(i)
	}
	if row := m.Row(2); len(row) != 68 || row[0] != byte(136) {
		t.Errorf("Row(2) = %d bytes from %d", len(row), row[0])
	}
	if m.Row(3) != nil || m.Row(-1) != nil {
		t.Error("Row out of range returned data")
	}
}

// randMatrix builds a rows x cols matrix of type typ from random rows.
func randMatrix(t testing.TB, r *rand.Rand, typ tensor.Type, rows, cols int) Matrix {
	m := Matrix{Type: typ, Rows: rows, Cols: cols}
	for i := 0; i < rows; i++ {
		m.Data = append(m.Data, encode(t, typ, randRow(r, cols, i%5))...)
	}
	return m
}

// TestMatMulMatchesVecDot checks every output of MatMul, for 1 to 3
// threads and batches of 1 to 5, bit for bit against VecDot on the
// converted activation row (batchDot for batches on a pool set
// blockwise, where a blockwise kernel has its own order), on every kernel
// path (MatMul's four-row kernels and row splits must not change a bit).
func TestMatMulMatchesVecDot(t *testing.T) {
	for _, p := range testedPaths() {
		onPath(p, func() { testMatMulMatchesVecDot(t) })
	}
}

// matmulWant returns what MatMul gives for the batch activation rows of
// x against the rows of m (ggml's layout), want[k][b*m.Rows+i]: the row
// kernel's outputs (k = 0, VecDot), and a batch's on a pool set blockwise
// (k = 1, batchDot).
func matmulWant(t testing.TB, m Matrix, x []float32, batch int) [2][]float32 {
	t.Helper()
	typ, cols := m.Type, m.Cols
	var want [2][]float32
	for k := range want {
		want[k] = make([]float32, batch*m.Rows)
	}
	act := make([]byte, 2*typeBytes(t, ActivationType(typ), cols))
	for b := 0; b < batch; b++ {
		if err := QuantizeActivations(ActivationType(typ), act, x[b*cols:(b+1)*cols]); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < m.Rows; i++ {
			want[0][b*m.Rows+i] = VecDot(typ, cols, m.Row(i), act)
			want[1][b*m.Rows+i] = batchDot(typ, 2, true, cols, m.Row(i), act)
		}
	}
	return want
}

// TestMatMulLongBatch runs batches longer than maxMatMulBatch, which
// MatMul takes in parts, on every path and type, both orders, against
// the per-token results bit for bit.
func TestMatMulLongBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	const rows, cols = 7, 256
	p := NewPool(2)
	defer p.Close()
	for _, path := range testedPaths() {
		onPath(path, func() {
			for _, typ := range weightTypes {
				m := randMatrix(t, r, typ, rows, cols)
				const most = 2*maxMatMulBatch + 3
				x := randRow(r, most*cols, 0)
				want := matmulWant(t, m, x, most)
				for _, batch := range []int{maxMatMulBatch + 1, most} {
					for k, blockwise := range []bool{false, true} {
						p.SetBlockwise(blockwise)
						out := make([]float32, batch*rows)
						if err := p.MatMul(out, m, x[:batch*cols], batch); err != nil {
							t.Fatal(err)
						}
						for i, v := range out {
							if w := want[k][i]; math.Float32bits(v) != math.Float32bits(w) {
								t.Fatalf("%s %s batch %d blockwise %v: out[%d] = %g, want %g", path, typ, batch, blockwise, i, v, w)
							}
						}
					}
				}
			}
		})
	}
}

func testMatMulMatchesVecDot(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const rows, cols = 37, 512
	pools := []*Pool{NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	for _, typ := range weightTypes {
		m := randMatrix(t, r, typ, rows, cols)
		x := make([]float32, 0, 5*cols)
		for b := 0; b < 5; b++ {
			x = append(x, randRow(r, cols, b)...)
		}
		want := matmulWant(t, m, x, 5)
		ms := []Matrix{m}
		if sub := (Matrix{Type: typ, Rows: rows - rows%4, Cols: cols, Data: m.Data[:(rows-rows%4)*m.RowBytes()]}); CanRepackQuads(sub) {
			quads, err := RepackQuads(make([]byte, len(sub.Data)), sub)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, quads)
		}
		for _, m := range ms {
			for _, p := range pools {
				for _, blockwise := range []bool{false, true} {
					p.SetBlockwise(blockwise)
					for batch := 1; batch <= 5; batch++ {
						out := make([]float32, batch*m.Rows)
						if err := p.MatMul(out, m, x[:batch*cols], batch); err != nil {
							t.Fatal(err)
						}
						k := 0
						if blockwise {
							k = min(batch-1, 1)
						}
						for i, v := range out {
							b, r := i/m.Rows, i%m.Rows
							if w := want[k][b*rows+r]; math.Float32bits(v) != math.Float32bits(w) {
								t.Fatalf("%s %s %s threads %d batch %d blockwise %v: out[%d] = %g, want %g", ActivePath(), typ, m.Layout, p.Threads(), batch, blockwise, i, v, w)
							}
						}
					}
				}
			}
		}
	}
}

func TestMatMulErrors(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	m := Matrix{Type: tensor.Q8_0, Rows: 2, Cols: 32, Data: make([]byte, 2*34)}
	out, x := make([]float32, 4), make([]float32, 64)
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"short x", p.MatMul(out, m, x[:63], 2), "x has 63 floats (want 64)"},
		{"short out", p.MatMul(out[:3], m, x, 2), "out 3 (want 4)"},
		{"bad matrix", p.MatMul(out, Matrix{Type: tensor.Q8_0, Rows: 2, Cols: 32}, x, 1), "data is 0 bytes"},
		{"unsupported", p.MatMul(out, Matrix{Type: tensor.Q8_K, Rows: 1, Cols: 256, Data: make([]byte, 292)}, make([]float32, 256), 1), "not supported"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, c.err, c.want)
		}
	}
	if err := p.MatMul(nil, m, nil, 0); err != nil {
		t.Errorf("batch 0: %v", err)
	}
}

func TestPoolParallel(t *testing.T) {
	for threads := 0; threads <= 4; threads++ {
		p := NewPool(threads)
		if p.Threads() != max(1, threads) {
			t.Errorf("NewPool(%d).Threads() = %d", threads, p.Threads())
		}
		for _, n := range []int{0, 1, 2, 3, 7, 100, 1408, 5632} {
			seen := make([]int, n)
			chunks := make(chan [2]int, 64)
			p.Parallel(n, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++ // chunks are disjoint, so no race
				}
				chunks <- [2]int{lo, hi}
			})
			close(chunks)
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("threads %d n %d: index %d visited %d times", threads, n, i, c)
				}
			}
			// Each claim's size depends only on where it starts, so the
			// chunks are the same however the threads interleave: a
			// 1/(guidedShare*threads) share of what is left, at least
			// n/(grainPerThread*threads); one chunk on one thread.
			var want [][2]int
			if threads <= 1 || n == 1 {
				want = append(want, [2]int{0, n})
			} else {
				grain := max(1, n/(grainPerThread*threads))
				for lo := 0; lo < n; {
					hi := min(lo+max(grain, (n-lo)/(guidedShare*threads)), n)
					want = append(want, [2]int{lo, hi})
					lo = hi
				}
			}
			if n == 0 {
				want = nil
			}
			var got [][2]int
			for c := range chunks {
				got = append(got, c)
			}
			slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
			if !slices.Equal(got, want) {
				t.Errorf("threads %d n %d: chunks %v, want %v", threads, n, got, want)
			}
		}
		p.Close()
		p.Close()
		ran := 0
		p.Parallel(5, func(lo, hi int) { ran += hi - lo })
		if ran != 5 {
			t.Errorf("after Close: covered %d of 5", ran)
		}
	}
}

func TestPoolPanicReachesCaller(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	p.Parallel(9, func(lo, hi int) {
		if lo > 0 { // a worker's chunk, not the caller's
			panic("boom")
		}
	})
	t.Error("Parallel returned normally")
}

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for kind := 0; kind < 5; kind++ {
		x, w := randRow(r, 288, kind), randRow(r, 288, 0)
		const eps = 1e-5
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		scale := 1 / math.Sqrt(ss/float64(len(x))+eps)
		dst := make([]float32, len(x))
		RMSNorm(dst, x, w, eps)
		for i := range x {
			want := float64(x[i]) * scale * float64(w[i])
			if d := math.Abs(float64(dst[i]) - want); d > 1e-6*math.Abs(want)+1e-30 {
				t.Fatalf("kind %d: dst[%d] = %g, want %g", kind, i, dst[i], want)
			}
		}
		RMSNorm(x, x, nil, eps) // in place, no weight
		for i := range x {
			if want := float64(dst[i]) / float64(w[i]); math.Abs(float64(x[i])-want) > 1e-6*math.Abs(want)+1e-30 {
				t.Fatalf("kind %d: unweighted x[%d] = %g, want %g", kind, i, x[i], want)
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 7, 100} {
		x := randRow(r, n, 0)
		for i := range x {
			x[i] *= 10
		}
		x[0] = -1e30 // a masked position
		maxV := math.Inf(-1)
		for _, v := range x {
			maxV = math.Max(maxV, float64(v))
		}
		want := make([]float64, n)
		var sum float64
		for i, v := range x {
			want[i] = math.Exp(float64(v) - maxV)
			sum += want[i]
		}
		orig := append([]float32(nil), x...)
		Softmax(x)
		var got float64
		for i := range x {
			want[i] /= sum
			got += float64(x[i])
			// x - max is rounded to float32 first, as in ggml: exp then
			// carries that relative error times |x - max|.
			tol := want[i] * (1e-6 + math.Abs(float64(orig[i])-maxV)*0x1p-23)
			if d := math.Abs(float64(x[i]) - want[i]); d > tol+1e-37 {
				t.Errorf("n %d: x[%d] = %g, want %g", n, i, x[i], want[i])
			}
		}
		if math.Abs(got-1) > 1e-6 {
			t.Errorf("n %d: sums to %g", n, got)
		}
	}
	Softmax(nil)
}

func TestSiLUAndSwiGLU(t *testing.T) {
	gate := []float32{-100, -5, -1, -1e-3, 0, 1e-3, 0.5, 1, 5, 20, 100}
	up := make([]float32, len(gate))
	for i := range up {
		up[i] = float32(i) - 3.5
	}
	dst := make([]float32, len(gate))
	SwiGLU(dst, gate, up)
	for i, g := range gate {
		want := float64(g) / (1 + math.Exp(-float64(g)))
		if got := SiLU(g); math.Abs(float64(got)-want) > 1e-6*math.Abs(want)+1e-30 {
			t.Errorf("SiLU(%g) = %g, want %g", g, got, want)
		}
		if w := want * float64(up[i]); math.Abs(float64(dst[i])-w) > 1e-6*math.Abs(w)+1e-30 {
			t.Errorf("SwiGLU[%d] = %g, want %g", i, dst[i], w)
		}
	}
}

// TestRoPE checks the rotation against float64 maths twice: with the
// angles ggml computes (float32 powers by repeated multiplication), tightly,
// and with the exact angles pos*base^(-2i/d), within the drift that
// repeated float32 multiplication allows (i+1 roundings of 2^-24 each).
func TestRoPE(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const headDim, heads = 64, 3
	const base = 10000
	for _, pos := range []int{0, 1, 7, 100, 2047} {
		x := randRow(r, heads*headDim, 0)
		orig := append([]float32(nil), x...)
		RoPE(x, pos, headDim, base)
		thetaScale := float32(math.Pow(base, float64(float32(-2)/headDim)))
		ggmlTheta := float32(pos)
		for i := 0; i < headDim/2; i++ {
			exact := float64(pos) * math.Pow(base, -2*float64(i)/headDim)
			for h := 0; h < heads; h++ {
				k := h*headDim + 2*i
				x0, x1 := float64(orig[k]), float64(orig[k+1])
				mag := math.Hypot(x0, x1)
				th := float64(ggmlTheta)
				w0, w1 := x0*math.Cos(th)-x1*math.Sin(th), x0*math.Sin(th)+x1*math.Cos(th)
				if d := math.Hypot(float64(x[k])-w0, float64(x[k+1])-w1); d > 1e-6*mag {
					t.Errorf("pos %d pair %d head %d: (%g, %g), want (%g, %g)", pos, i, h, x[k], x[k+1], w0, w1)
				}
				e0, e1 := x0*math.Cos(exact)-x1*math.Sin(exact), x0*math.Sin(exact)+x1*math.Cos(exact)
				if d := math.Hypot(float64(x[k])-e0, float64(x[k+1])-e1); d > mag*(1e-6+exact*float64(i+2)*0x1p-24) {
					t.Errorf("pos %d pair %d: off the exact angle %g by %g", pos, i, exact, d)
				}
			}
			ggmlTheta *= thetaScale
		}
	}
}

func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	a, b := randRow(r, 1000, 0), randRow(r, 1000, 2)
	var want, mag float64
	for i := range a {
		want += float64(a[i]) * float64(b[i])
		mag += math.Abs(float64(a[i]) * float64(b[i]))
	}
	if got := Dot(a, b); math.Abs(float64(got)-want) > 1e-6*mag {
		t.Errorf("Dot = %g, want %g", got, want)
	}
	// Dot is VecDot on F32 rows.
	if got, vd := Dot(a, b), VecDot(tensor.F32, 1000, encode(t, tensor.F32, a), encode(t, tensor.F32, b)); got != vd {
		t.Errorf("Dot = %g, VecDot(F32) = %g", got, vd)
	}
}

// FuzzQuantizeRoundTrip encodes arbitrary finite floats in every type: no
// panic, and for values within f16 range of the scales the decoding error
// stays within relErrBound (with 2x slack for the k-quants, whose bounds
// are empirical).
func FuzzQuantizeRoundTrip(f *testing.F) {
	f.Add(uint8(0), []byte{0, 0, 128, 63})
	f.Add(uint8(6), []byte{0xff, 0xff, 0x7f, 0x7f, 0xff, 0xff, 0x7f, 0xff, 1, 0, 0, 0})
	f.Add(uint8(12), []byte{0, 0, 0x80, 0, 0, 0, 0x80, 0x80, 0x12, 0x34, 0x56, 0x78})
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		typ := quantTypes[int(sel)%len(quantTypes)]
		bs := typ.BlockSize()
		n := min(len(data)/4, 1024)
		n = max(bs, (n+bs-1)/bs*bs)
		x := make([]float32, n)
		var amax float64
		for i := 0; i < n && 4*i+4 <= len(data); i++ {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				v = 0
			}
			x[i] = v
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		enc := encode(t, typ, x)
		y := decode(t, typ, enc, n)
		if Supported(typ) {
			act := encode(t, ActivationType(typ), x)
			VecDot(typ, n, enc, act)
		}
		if amax > 1000 || amax < 1e-30 {
			// Only "no panic" holds: f16 scales or values may overflow, and
			// for subnormal inputs ggml's own Q8_K scale -127/max overflows.
			return
		}
		slack := 1.0
		if typ.BlockSize() == tensor.QK_K && typ != tensor.Q8_K {
			slack = 2
		}
		if msg := roundTripError(typ, x, y, slack); msg != "" {
			t.Errorf("%s: %s", typ, msg)
		}
	})
}

func typeBytes(t testing.TB, typ tensor.Type, n int) int {
	t.Helper()
	rb, err := typ.RowBytes(n)
	if err != nil {
		t.Fatal(err)
	}
	return rb
}
